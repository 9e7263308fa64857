// @platformatic/kafka (pinned in package.json) against an Eddy broker, with its own Admin,
// Producer and Consumer only:
//   Admin: createTopics with partitions and a topic config, describeConfigs, metadata,
//          listOffsets (earliest/latest), listGroups, describeGroups,
//          listConsumerGroupOffsets, deleteTopics, listTopics.
//   Producer: its defaults (not idempotent, acks=1, no compression), then an idempotent
//          producer (InitProducerId, acks=-1, sequence numbers) with gzip and snappy batches.
//   Consumer: one member of a consumer group (FindCoordinator, JoinGroup, SyncGroup,
//          Heartbeat, Fetch, OffsetCommit) reading from the earliest offset.
// Checks: exactly the records produced come back (keys, values, headers, no duplicates),
// every key stays on one partition and its records keep their produce order, offsets are
// dense per partition, and the committed offsets equal each partition's end offset.
//
// With --produce-only, the part that needs no consumer-group or topic-management API: the
// topic exists beforehand (the shell script creates it with `eddy topic create`), Admin runs
// describeConfigs, metadata, listOffsets and listGroups, both producers write, and the
// records are read back with kcat (librdkafka) for the same checks; nothing is deleted.
//
// usage: node platformatic.js HOST:PORT [--produce-only]   (KCAT=path/to/kcat to override)
'use strict'

const assert = require('assert/strict')
const { spawnSync } = require('child_process')

const bootstrap = process.argv[2]
if (!bootstrap) {
  console.error('usage: node platformatic.js HOST:PORT')
  process.exit(2)
}
const produceOnly = process.argv[3] === '--produce-only'
const KCAT = process.env.KCAT || 'kcat'
const t0 = Date.now()
const note = msg => console.error(`[platformatic.test +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`)

// Overall bound (the shell script also has one).
const overall = setTimeout(() => {
  console.error('FAIL platformatic.test: overall time limit (120 s) reached')
  process.exit(3)
}, 120000)

const TOPIC = 'pk-records'
const PARTITIONS = 4
const GROUP = 'pk-group'
const KEYS = 16
const PER_BATCH = 60 // records per send() call

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

async function waitFor(what, fn, ms = 20000) {
  const until = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

function records(from, n, tag) {
  const out = []
  for (let i = from; i < from + n; i++) {
    out.push({
      topic: TOPIC,
      key: `k${i % KEYS}`,
      value: `v${i}-${tag}`,
      headers: { seq: String(i), codec: tag }
    })
  }
  return out
}

// kcat -J: one JSON object per record; headers as [k1, v1, k2, v2, ...].
function kcatConsume(topic) {
  const args = ['-b', bootstrap, '-C', '-t', topic, '-e', '-q', '-J']
  const r = spawnSync(KCAT, args, { timeout: 60000, encoding: 'utf8', maxBuffer: 64 << 20 })
  if (r.error) throw new Error(`kcat ${args.join(' ')}: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`kcat ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r.stdout.split('\n').filter(l => l.length).map(l => JSON.parse(l))
}

function pairs(flat) {
  const out = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]])
  return out
}

// got: records as read ({partition, offset, key, value, topic, headers: Map}), in the order
// read; sent: what was produced; endOffsets: partition -> end offset.
function checkRecords(got, sent, endOffsets) {
  const total = sent.length
  // Exactly the records produced: keys, values, headers, one copy each.
  const byValue = new Map()
  for (const m of got) {
    assert.ok(!byValue.has(m.value), `duplicate record ${m.value}`)
    byValue.set(m.value, m)
  }
  assert.equal(byValue.size, total)
  for (const s of sent) {
    const m = byValue.get(s.value)
    assert.ok(m, `record ${s.value} not consumed`)
    assert.equal(m.key, s.key)
    assert.equal(m.topic, TOPIC)
    assert.deepEqual(Object.fromEntries(m.headers), s.headers)
  }
  // Each key on one partition, in produce order; offsets dense from 0 per partition.
  const keyPart = new Map()
  const keyLast = new Map()
  const partNext = new Map()
  for (const m of got) {
    const seq = Number(m.headers.get('seq'))
    if (keyPart.has(m.key)) assert.equal(m.partition, keyPart.get(m.key), `key ${m.key} on two partitions`)
    keyPart.set(m.key, m.partition)
    if (keyLast.has(m.key)) assert.ok(seq > keyLast.get(m.key), `key ${m.key}: seq ${seq} after ${keyLast.get(m.key)}`)
    keyLast.set(m.key, seq)
    const want = partNext.get(m.partition) ?? 0n
    assert.equal(m.offset, want, `partition ${m.partition}: offset ${m.offset}, expected ${want}`)
    partNext.set(m.partition, want + 1n)
  }
  for (const [p, o] of endOffsets) assert.equal(partNext.get(p) ?? 0n, o, `partition ${p} end offset`)
  note(`records: ${total} exact, ${KEYS} keys on ${new Set(keyPart.values()).size} partitions, order kept`)

}

async function main() {
  const kafka = await import('@platformatic/kafka')
  const { Admin, Producer, Consumer, stringSerializers, stringDeserializers } = kafka
  const base = { bootstrapBrokers: [bootstrap], timeout: 10000, retries: 3, retryDelay: 200 }

  const admin = new Admin({ ...base, clientId: 'pk-admin' })
  if (!produceOnly) {
    const created = await admin.createTopics({
      topics: [TOPIC],
      partitions: PARTITIONS,
      replicas: 1,
      configs: [{ name: 'retention.ms', value: '3600000' }]
    })
    assert.equal(created.length, 1)
    assert.equal(created[0].name, TOPIC)
    assert.equal(created[0].partitions, PARTITIONS)
    note(`createTopics: ${TOPIC} with ${created[0].partitions} partitions`)
  }

  const described = await admin.describeConfigs({
    resources: [{ resourceType: 2, resourceName: TOPIC, configurationKeys: ['retention.ms'] }]
  })
  const retention = described[0].configs.find(c => c.name === 'retention.ms')
  assert.ok(retention, 'describeConfigs has no retention.ms')
  assert.equal(retention.value, '3600000')
  note('describeConfigs: retention.ms is the value given at creation')

  const md = await admin.metadata({ topics: [TOPIC] })
  assert.equal(md.topics.get(TOPIC).partitionsCount, PARTITIONS)

  // The default producer: no idempotence, acks=1, no compression.
  const plain = new Producer({ ...base, clientId: 'pk-plain', serializers: stringSerializers })
  let sent = []
  let r = await plain.send({ messages: records(0, PER_BATCH, 'none') })
  assert.ok(r.offsets && r.offsets.length > 0, 'send() reported no offsets')
  sent = sent.concat(records(0, PER_BATCH, 'none'))
  await plain.close()
  note(`default producer: ${PER_BATCH} records`)

  // An idempotent producer, one batch per codec.
  const idem = new Producer({ ...base, clientId: 'pk-idem', idempotent: true, serializers: stringSerializers })
  let next = PER_BATCH
  for (const codec of ['gzip', 'snappy', 'none']) {
    const batch = records(next, PER_BATCH, codec)
    r = await idem.send({ messages: batch, compression: codec })
    assert.ok(r.offsets && r.offsets.length > 0, `send(${codec}) reported no offsets`)
    sent = sent.concat(batch)
    next += PER_BATCH
  }
  assert.ok(idem.producerId !== undefined && idem.producerId >= 0n, `idempotent producer has no producer id (${idem.producerId})`)
  await idem.close()
  note(`idempotent producer ${idem.producerId}: ${next - PER_BATCH} records (gzip, snappy, none)`)

  const total = sent.length
  const latest = await admin.listOffsets({
    topics: [{ name: TOPIC, partitions: [...Array(PARTITIONS).keys()].map(p => ({ partitionIndex: p, timestamp: -1n })) }]
  })
  const earliest = await admin.listOffsets({
    topics: [{ name: TOPIC, partitions: [...Array(PARTITIONS).keys()].map(p => ({ partitionIndex: p, timestamp: -2n })) }]
  })
  const endOffsets = new Map(latest[0].partitions.map(p => [p.partitionIndex, p.offset]))
  let sum = 0n
  for (const p of earliest[0].partitions) assert.equal(p.offset, 0n, `earliest offset of partition ${p.partitionIndex}`)
  for (const [, o] of endOffsets) sum += o
  assert.equal(sum, BigInt(total), 'end offsets do not add up to the records produced')
  note(`listOffsets: end offsets ${[...endOffsets].map(([p, o]) => `${p}:${o}`).join(' ')}`)

  if (produceOnly) {
    const groups = await admin.listGroups()
    assert.equal(groups.size, 0, `listGroups: ${[...groups.keys()]}`)
    const got = kcatConsume(TOPIC).map(j => ({
      partition: j.partition,
      offset: BigInt(j.offset),
      key: j.key,
      value: j.payload,
      topic: j.topic,
      headers: new Map(pairs(j.headers || []))
    }))
    checkRecords(got, sent, endOffsets)
    await admin.close()
    return
  }

  // One consumer-group member reads everything and commits what it read.
  const consumer = new Consumer({
    ...base,
    clientId: 'pk-consumer',
    groupId: GROUP,
    deserializers: stringDeserializers,
    sessionTimeout: 10000,
    heartbeatInterval: 500,
    maxWaitTime: 500
  })
  const stream = await consumer.consume({ topics: [TOPIC], mode: 'earliest', autocommit: false })
  const got = []
  const lastByPart = new Map()
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${got.length} of ${total} records`)), 30000)
    stream.on('error', e => { clearTimeout(timer); reject(e) })
    stream.on('data', m => {
      got.push(m)
      lastByPart.set(m.partition, m)
      if (got.length >= total) { clearTimeout(timer); resolve() }
    })
  })
  note(`consumer: ${got.length} records`)

  // While the member is in the group, Admin sees it.
  const groups = await admin.listGroups()
  assert.ok(groups.has(GROUP), `listGroups lacks ${GROUP}: ${[...groups.keys()]}`)
  const dg = (await admin.describeGroups({ groups: [GROUP] })).get(GROUP)
  assert.equal(dg.state, 'STABLE')
  assert.equal(dg.protocolType, 'consumer')
  assert.equal(dg.members.size, 1)
  const member = [...dg.members.values()][0]
  assert.equal(member.clientId, 'pk-consumer')
  const assigned = member.assignments && member.assignments.get(TOPIC)
  assert.ok(assigned, 'describeGroups shows no assignment for the topic')
  assert.deepEqual([...assigned.partitions].sort(), [...Array(PARTITIONS).keys()])
  note(`describeGroups: ${dg.state}, protocol ${dg.protocol}, member owns partitions ${[...assigned.partitions]}`)

  for (const m of lastByPart.values()) await m.commit()
  await stream.close()
  await consumer.close()

  checkRecords(got, sent, endOffsets)

  // Committed offsets as Admin sees them: each partition's end offset.
  const committed = await waitFor('committed offsets', async () => {
    const res = await admin.listConsumerGroupOffsets({ groups: [GROUP] })
    const t = res[0] && res[0].topics.find(x => x.name === TOPIC)
    if (!t) return null
    const ok = t.partitions.filter(p => p.committedOffset >= 0n)
    return ok.length === lastByPart.size ? ok : null
  })
  // A partition the records missed has nothing to commit.
  for (const p of committed) {
    assert.equal(p.committedOffset, endOffsets.get(p.partitionIndex), `committed offset of partition ${p.partitionIndex}`)
  }
  note(`listConsumerGroupOffsets: ${committed.map(p => `${p.partitionIndex}:${p.committedOffset}`).join(' ')}`)

  const empty = await waitFor('group to be empty', async () => {
    const g = (await admin.describeGroups({ groups: [GROUP] })).get(GROUP)
    return g.state === 'EMPTY' && g.members.size === 0 ? g : null
  })
  assert.equal(empty.state, 'EMPTY')

  await admin.deleteTopics({ topics: [TOPIC] })
  await waitFor('topic to be deleted', async () => !(await admin.listTopics()).includes(TOPIC))
  note('deleteTopics: gone from listTopics')
  await admin.close()
}

main().then(
  () => {
    clearTimeout(overall)
    note('ok')
    process.exit(0)
  },
  e => {
    console.error('FAIL platformatic.test:', e && e.stack ? e.stack : e)
    if (e && e.errors) for (const x of e.errors) console.error('  caused by:', x && x.stack ? x.stack : x)
    process.exit(1)
  }
)
