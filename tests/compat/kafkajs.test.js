// kafkajs 2.2.4 against an Eddy broker: admin client (createTopics, fetchTopicMetadata,
// fetchTopicOffsets, fetchTopicOffsetsByTimestamp, describeConfigs, deleteTopicRecords,
// deleteTopics) and producer (send with keys, headers, explicit timestamps, acks -1/1/0,
// null key and value, GZIP, sendBatch over several topics). Records are read back with
// kcat (librdkafka), which checks what kafkajs wrote byte for byte.
//
// No kafkajs consumer here: kafkajs consumers always join a consumer group
// (FindCoordinator/JoinGroup/SyncGroup/OffsetCommit), so the kafkajs consumer test comes
// with the consumer-group work, not with this produce/admin test.
//
// usage: node kafkajs.test.js HOST:PORT   (KCAT=path/to/kcat to override)
'use strict'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const assert = require('assert/strict')
const { spawnSync } = require('child_process')
const {
  Kafka,
  logLevel,
  Partitioners,
  CompressionTypes,
  ConfigResourceTypes,
} = require('kafkajs')

const bootstrap = process.argv[2]
if (!bootstrap) {
  console.error('usage: node kafkajs.test.js HOST:PORT')
  process.exit(2)
}
const KCAT = process.env.KCAT || 'kcat'
const t0 = Date.now()
const note = msg => console.error(`[kafkajs.test +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`)

// Overall bound (the shell script also has one).
const overall = setTimeout(() => {
  console.error('FAIL kafkajs.test: overall time limit (150 s) reached')
  process.exit(3)
}, 150000)

const kafka = new Kafka({
  clientId: 'eddy-compat-kafkajs',
  brokers: [bootstrap],
  logLevel: logLevel.WARN,
  connectionTimeout: 5000,
  requestTimeout: 15000,
  retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
})

// kcat -C ... -J: one JSON object per record.
function kcatConsume(topic, extra = []) {
  const args = ['-b', bootstrap, '-C', '-t', topic, '-e', '-q', '-J', ...extra]
  const r = spawnSync(KCAT, args, { timeout: 60000, encoding: 'utf8', maxBuffer: 256 << 20 })
  if (r.error) throw new Error(`kcat ${args.join(' ')}: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`kcat ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r.stdout
    .split('\n')
    .filter(l => l.length)
    .map(l => JSON.parse(l))
}

// kafkajs encodes headers in key order, array values as repeated headers.
function flatHeaders(h) {
  const out = []
  for (const [k, v] of Object.entries(h)) {
    for (const x of Array.isArray(v) ? v : [v]) out.push(k, x === null ? null : String(x))
  }
  return out
}

async function waitFor(what, fn, ms = 20000) {
  const end = Date.now() + ms
  for (;;) {
    const r = await fn()
    if (r) return r
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(res => setTimeout(res, 100))
  }
}

async function main() {
  const admin = kafka.admin()
  await admin.connect()

  // ---- createTopics ------------------------------------------------------------------
  const T = 'kjs-keys'
  const created = await admin.createTopics({
    topics: [
      { topic: T, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '86400000' }] },
      { topic: 'kjs-del', numPartitions: 2 },
    ],
    waitForLeaders: true,
    timeout: 10000,
  })
  assert.equal(created, true, 'createTopics did not report the topics created')
  note('creating it again (kafkajs logs the expected TOPIC_ALREADY_EXISTS as an ERROR)')
  const again = await admin.createTopics({ topics: [{ topic: T, numPartitions: 3 }], timeout: 10000 })
  assert.equal(again, false, 'createTopics of an existing topic: expected false (TOPIC_ALREADY_EXISTS)')
  const topics = await admin.listTopics()
  assert.ok(topics.includes(T) && topics.includes('kjs-del'), `listTopics: ${topics}`)
  const md = await admin.fetchTopicMetadata({ topics: [T] })
  assert.equal(md.topics.length, 1)
  const partitionMetadata = md.topics[0].partitions
  assert.equal(partitionMetadata.length, 3, `${T}: ${partitionMetadata.length} partitions, created with 3`)
  for (const p of partitionMetadata) {
    assert.equal(p.leader, 0, `${T} [${p.partitionId}]: leader ${p.leader}`)
    assert.equal(p.partitionErrorCode, 0, `${T} [${p.partitionId}]: error ${p.partitionErrorCode}`)
  }
  note('createTopics, listTopics, fetchTopicMetadata ok')

  // ---- produce: keys, headers, explicit timestamps, acks -1 / 1 / 0 ---------------------
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const base = Math.floor((Date.now() - 3600000) / 1000) * 1000 // an hour ago, whole seconds
  const N = 300
  const msg = i => ({
    key: `key-${i % 37}`,
    value: `value-${i}`,
    headers: { h1: 'v1', idx: String(i), multi: ['a', 'b'] },
    timestamp: String(base + i * 1000),
  })
  const partitioner = Partitioners.DefaultPartitioner()
  const expectPart = i => partitioner({ topic: T, partitionMetadata, message: msg(i) })
  const sent = [] // per send: its RecordMetadata
  for (const [b, acks] of [[0, -1], [1, 1], [2, 0]]) {
    const messages = []
    for (let i = b * 100; i < (b + 1) * 100; i++) messages.push(msg(i))
    const res = await producer.send({ topic: T, acks, messages })
    sent.push(res)
    if (acks !== 0) {
      for (const r of res) {
        assert.equal(r.errorCode, 0, `send acks=${acks}: partition ${r.partition} error ${r.errorCode}`)
        assert.equal(r.topicName, T)
      }
    }
  }
  // A tombstone and a null key, on explicit partitions.
  await producer.send({ topic: T, acks: -1, messages: [{ key: 'tomb', value: null, partition: 0, timestamp: String(base + 500000) }] })
  await producer.send({ topic: T, acks: -1, messages: [{ key: null, value: 'nokey', partition: 1, timestamp: String(base + 500000) }] })
  // acks=0 has no response: wait until the broker has all of them.
  const total = async () => (await admin.fetchTopicOffsets(T)).reduce((s, p) => s + Number(p.high), 0)
  await waitFor(`${N + 2} records in ${T}`, async () => (await total()) >= N + 2)
  assert.equal(await total(), N + 2, `${T}: high watermarks add up to ${await total()}, sent ${N + 2}`)

  // Read back with kcat.
  const recs = kcatConsume(T)
  assert.equal(recs.length, N + 2, `kcat read ${recs.length} records from ${T}, sent ${N + 2}`)
  const perPart = new Map()
  const seen = new Set()
  for (const r of recs) {
    const list = perPart.get(r.partition) || []
    list.push(r)
    perPart.set(r.partition, list)
    if (r.key === 'tomb') {
      assert.equal(r.partition, 0)
      assert.equal(r.payload, null, `tombstone payload ${JSON.stringify(r.payload)}`)
      assert.equal(r.ts, base + 500000)
      continue
    }
    if (r.payload === 'nokey') {
      assert.equal(r.partition, 1)
      assert.equal(r.key, null, `null key came back as ${JSON.stringify(r.key)}`)
      continue
    }
    const m = /^value-(\d+)$/.exec(r.payload)
    assert.ok(m, `unexpected payload ${JSON.stringify(r.payload)} at [${r.partition}] ${r.offset}`)
    const i = Number(m[1])
    assert.ok(!seen.has(i), `record ${i} twice`)
    seen.add(i)
    const want = msg(i)
    assert.equal(r.key, want.key, `record ${i}: key`)
    assert.deepEqual(r.headers, flatHeaders(want.headers), `record ${i}: headers ${JSON.stringify(r.headers)}`)
    assert.equal(r.tstype, 'create', `record ${i}: timestamp type ${r.tstype}`)
    assert.equal(String(r.ts), want.timestamp, `record ${i}: timestamp ${r.ts}, sent ${want.timestamp}`)
    assert.equal(r.partition, expectPart(i), `record ${i} (key ${want.key}): partition ${r.partition}, kafkajs's partitioner chose ${expectPart(i)}`)
  }
  assert.equal(seen.size, N)
  // Offsets dense from 0 per partition, kafkajs's send order kept.
  for (const [p, list] of perPart) {
    list.forEach((r, k) => assert.equal(r.offset, k, `${T} [${p}]: offset ${r.offset} at position ${k}`))
    const vals = list.map(r => /^value-(\d+)$/.exec(r.payload)).filter(Boolean).map(m => Number(m[1]))
    for (let k = 1; k < vals.length; k++) assert.ok(vals[k] > vals[k - 1], `${T} [${p}]: record ${vals[k]} after ${vals[k - 1]}`)
  }
  // Each acked send's baseOffset: the number of earlier records on that partition.
  for (const b of [0, 1]) {
    for (const r of sent[b]) {
      const earlier = [...seen].filter(i => i < b * 100 && expectPart(i) === r.partition).length
      assert.equal(Number(r.baseOffset), earlier, `send ${b} [${r.partition}]: baseOffset ${r.baseOffset}, expected ${earlier}`)
    }
  }
  note(`producer.send (acks -1/1/0): ${N} keyed records + tombstone + null key, keys, headers, timestamps, partitions, offsets round-trip`)

  // ---- fetchTopicOffsets / fetchTopicOffsetsByTimestamp --------------------------------
  const offs = await admin.fetchTopicOffsets(T)
  assert.equal(offs.length, 3)
  for (const o of offs) {
    const n = (perPart.get(o.partition) || []).length
    assert.equal(o.high, String(n), `fetchTopicOffsets ${T} [${o.partition}]: high ${o.high}, holds ${n}`)
    assert.equal(o.offset, String(n))
    assert.equal(o.low, '0', `fetchTopicOffsets ${T} [${o.partition}]: low ${o.low}`)
  }
  for (const ts of [base - 1000, base, base + 150 * 1000, base + 150 * 1000 + 1, base + 299 * 1000, base + 10000000]) {
    const got = await admin.fetchTopicOffsetsByTimestamp(T, ts)
    assert.equal(got.length, 3)
    for (const g of got) {
      const list = perPart.get(g.partition) || []
      // First offset with timestamp >= ts; none: kafkajs answers the high watermark.
      const first = list.find(r => r.ts >= ts)
      const want = first ? first.offset : list.length
      assert.equal(Number(g.offset), want, `fetchTopicOffsetsByTimestamp(${T}, base+${ts - base}) [${g.partition}]: ${g.offset}, expected ${want}`)
    }
  }
  note('fetchTopicOffsets, fetchTopicOffsetsByTimestamp ok')

  // ---- describeConfigs -------------------------------------------------------------------
  const dc = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [
      { type: ConfigResourceTypes.TOPIC, name: T, configNames: ['retention.ms', 'cleanup.policy'] },
      { type: ConfigResourceTypes.BROKER, name: '0', configNames: ['num.partitions'] },
    ],
  })
  assert.equal(dc.resources.length, 2)
  const topicRes = dc.resources.find(r => r.resourceType === ConfigResourceTypes.TOPIC)
  assert.ok(topicRes, 'describeConfigs: no topic resource in the answer')
  assert.equal(topicRes.errorCode, 0, `describeConfigs ${T}: error ${topicRes.errorCode}`)
  const entry = name => topicRes.configEntries.find(e => e.configName === name)
  assert.equal(topicRes.configEntries.length, 2, `describeConfigs asked 2 keys, got ${topicRes.configEntries.map(e => e.configName)}`)
  assert.equal(entry('retention.ms')?.configValue, '86400000', `retention.ms: ${JSON.stringify(entry('retention.ms'))}`)
  assert.equal(entry('retention.ms').isDefault, false)
  assert.equal(entry('cleanup.policy')?.configValue, 'delete')
  assert.equal(entry('cleanup.policy').isDefault, true)
  const brokerRes = dc.resources.find(r => r.resourceType === ConfigResourceTypes.BROKER)
  assert.equal(brokerRes.errorCode, 0)
  assert.equal(brokerRes.configEntries.find(e => e.configName === 'num.partitions')?.configValue, '3',
    `broker num.partitions: ${JSON.stringify(brokerRes.configEntries)}`)
  note('describeConfigs (topic, broker) ok')

  // ---- GZIP and sendBatch over several topics (auto-created) ---------------------------
  const gz = []
  for (let i = 0; i < 500; i++) gz.push({ key: `g${i}`, value: `gzip-${i} ${'x'.repeat(i % 50)}`, partition: i % 3 })
  await producer.send({ topic: 'kjs-gzip', compression: CompressionTypes.GZIP, acks: -1, messages: gz })
  const gzBack = kcatConsume('kjs-gzip')
  assert.equal(gzBack.length, 500, `kjs-gzip: read ${gzBack.length} of 500`)
  const gzVals = new Map(gzBack.map(r => [r.key, r]))
  for (const m of gz) {
    const r = gzVals.get(m.key)
    assert.ok(r && r.payload === m.value && r.partition === m.partition, `kjs-gzip ${m.key}: ${JSON.stringify(r)}`)
  }
  const batchRes = await producer.sendBatch({
    acks: -1,
    topicMessages: [
      { topic: 'kjs-batch-a', messages: [{ value: 'a1' }, { value: 'a2' }] },
      { topic: 'kjs-batch-b', messages: [{ key: 'kb', value: 'b1' }] },
    ],
  })
  assert.ok(batchRes.every(r => r.errorCode === 0), `sendBatch: ${JSON.stringify(batchRes)}`)
  assert.deepEqual(kcatConsume('kjs-batch-a').map(r => r.payload).sort(), ['a1', 'a2'])
  assert.deepEqual(kcatConsume('kjs-batch-b').map(r => [r.key, r.payload]), [['kb', 'b1']])
  note('GZIP send, sendBatch to two auto-created topics ok')

  // ---- deleteTopicRecords ----------------------------------------------------------------
  const p0 = (perPart.get(0) || []).length
  assert.ok(p0 > 10, `${T} [0] holds only ${p0} records`)
  await admin.deleteTopicRecords({ topic: T, partitions: [{ partition: 0, offset: '5' }] })
  const after = await admin.fetchTopicOffsets(T)
  const a0 = after.find(o => o.partition === 0)
  assert.equal(a0.low, '5', `after deleteTopicRecords: ${T} [0] low ${a0.low}, expected 5`)
  assert.equal(a0.high, String(p0))
  const rest = kcatConsume(T, ['-p', '0', '-o', 'beginning'])
  assert.equal(rest.length, p0 - 5, `after deleteTopicRecords: kcat read ${rest.length} from [0], expected ${p0 - 5}`)
  assert.equal(rest[0].offset, 5)
  note('deleteTopicRecords ok')

  // ---- deleteTopics ----------------------------------------------------------------------
  await admin.deleteTopics({ topics: ['kjs-del'], timeout: 10000 })
  const left = await admin.listTopics()
  assert.ok(!left.includes('kjs-del'), `deleted topic still listed: ${left}`)
  assert.ok(left.includes(T))
  // Deleting it again: UNKNOWN_TOPIC_OR_PARTITION (kafkajs retries it, then gives up).
  const quick = new Kafka({
    clientId: 'eddy-compat-kafkajs-quick',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 },
  })
  const admin2 = quick.admin()
  await admin2.connect()
  let err = null
  try {
    await admin2.deleteTopics({ topics: ['kjs-del'], timeout: 5000 })
  } catch (e) {
    err = e
  }
  await admin2.disconnect()
  assert.ok(err, 'deleting a deleted topic succeeded')
  let types = []
  for (let e = err; e; e = e.originalError || e.cause) types.push(e.type || e.name)
  assert.ok(types.includes('UNKNOWN_TOPIC_OR_PARTITION'), `deleting a deleted topic: ${types.join(' <- ')}: ${err.message}`)
  note('deleteTopics ok')

  await producer.disconnect()
  await admin.disconnect()
}

main()
  .then(() => {
    clearTimeout(overall)
    note('all ok')
    process.exit(0)
  })
  .catch(e => {
    console.error(`FAIL kafkajs.test: ${e && e.stack ? e.stack : e}`)
    process.exit(1)
  })
