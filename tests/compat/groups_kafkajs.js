// kafkajs 2.2.4 consumer groups against an Eddy broker: the pieces groups_kafkajs.sh runs.
//
//   node groups_kafkajs.js consume BOOTSTRAP GROUP TOPIC NAME [--session=MS] [--manual-commit]
//                                  [--max=N]
//       one kafkajs consumer (consumer.run, eachMessage) until SIGTERM (then
//       consumer.disconnect(): LeaveGroup) or, with --max, N records. stdout, one line each,
//       in groups_rdkafka's format so that groups_lib.sh reads both:
//           MS START NAME    MS MEMBER ID    MS ASSIGN K P,P,..|-   (K: GROUP_JOIN events)
//           MS REC P OFFSET VALUE    MS COMMIT P NEXT OK|ERROR_TYPE (--manual-commit)
//           MS ERROR TYPE TEXT (CRASH event, restart or not)    MS EXIT
//       --manual-commit: autoCommit off, consumer.commitOffsets(offset+1) after each record.
//       A consumer not told to stop exits on its own after 200 s.
//   node groups_kafkajs.js create BOOTSTRAP TOPIC PARTITIONS
//   node groups_kafkajs.js produce BOOTSTRAP TOPIC FROM COUNT
//       values FROM..FROM+COUNT-1 (decimal), record id i to partition i % partitions, acks -1.
//   node groups_kafkajs.js describe BOOTSTRAP GROUP TOPIC
//       admin.describeGroups: "STATE N" then "MEMBER_ID P,P,..|-" per member.
//   node groups_kafkajs.js committed BOOTSTRAP GROUP TOPIC
//       admin.fetchOffsets: "P OFFSET" per partition (-1: none).
'use strict'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const { Kafka, logLevel, AssignerProtocol } = require('kafkajs')

const [mode, bootstrap, ...args] = process.argv.slice(2)
if (!mode || !bootstrap) {
  console.error('usage: node groups_kafkajs.js MODE BOOTSTRAP ... (see the top of the file)')
  process.exit(2)
}

const out = line => process.stdout.write(`${Date.now()} ${line}\n`)
const fail = msg => {
  console.error(`FAIL groups_kafkajs.js ${mode}: ${msg}`)
  process.exit(1)
}

function kafka(clientId) {
  return new Kafka({
    clientId,
    brokers: [bootstrap],
    // KAFKAJS_LOG_LEVEL=DEBUG for the protocol-level story.
    logLevel: logLevel[process.env.KAFKAJS_LOG_LEVEL || 'WARN'],
    connectionTimeout: 3000,
    requestTimeout: 15000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 },
  })
}

async function consume() {
  const [group, topic, name, ...opts] = args
  const opt = (k, d) => {
    const o = opts.find(x => x.startsWith(`--${k}=`))
    return o ? Number(o.slice(k.length + 3)) : d
  }
  const manual = opts.includes('--manual-commit')
  const max = opt('max', -1)
  const session = opt('session', 6000)
  out(`START ${name}`)
  const consumer = kafka(name).consumer({
    groupId: group,
    sessionTimeout: session,
    heartbeatInterval: Math.min(1000, Math.floor(session / 3)),
    rebalanceTimeout: 20000,
    maxWaitTimeInMs: 500,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 },
  })
  let joins = 0
  let consumed = 0
  let stopping = false
  consumer.on(consumer.events.GROUP_JOIN, e => {
    joins++
    const parts = (e.payload.memberAssignment[topic] || []).slice().sort((a, b) => a - b)
    out(`MEMBER ${e.payload.memberId}`)
    out(`ASSIGN ${joins} ${parts.length ? parts.join(',') : '-'}`)
  })
  consumer.on(consumer.events.CRASH, e => {
    const err = e.payload.error
    out(`ERROR ${err.type || err.name} ${String(err.message).replace(/\n/g, ' ')} (restart: ${e.payload.restart})`)
    if (!e.payload.restart) stop(4)
  })
  async function stop(code) {
    if (stopping) return
    stopping = true
    try {
      await consumer.disconnect()
    } catch (e) {
      out(`ERROR disconnect ${e.message}`)
    }
    out('EXIT')
    process.exit(code)
  }
  process.on('SIGTERM', () => stop(0))
  process.on('SIGINT', () => stop(0))
  setTimeout(() => {
    out('ERROR lifetime 200 s')
    process.exit(3)
  }, 200000).unref()

  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    autoCommit: !manual,
    eachMessage: async ({ partition, message }) => {
      if (stopping || (max >= 0 && consumed >= max)) return
      out(`REC ${partition} ${message.offset} ${message.value.toString()}`)
      consumed++
      if (manual) {
        const next = (BigInt(message.offset) + 1n).toString()
        try {
          await consumer.commitOffsets([{ topic, partition, offset: next }])
          out(`COMMIT ${partition} ${next} OK`)
        } catch (e) {
          out(`COMMIT ${partition} ${next} ${e.type || e.name}`)
        }
      }
      if (max >= 0 && consumed >= max) setImmediate(() => stop(0))
    },
  })
}

async function withAdmin(fn) {
  const admin = kafka('groups-kafkajs-admin').admin()
  await admin.connect()
  try {
    return await fn(admin)
  } finally {
    await admin.disconnect()
  }
}

async function create() {
  const [topic, n] = args
  await withAdmin(async admin => {
    const ok = await admin.createTopics({
      topics: [{ topic, numPartitions: Number(n), replicationFactor: 1 }],
      waitForLeaders: true,
    })
    if (!ok) fail(`topic ${topic} already exists`)
  })
}

async function produce() {
  const [topic, from, count] = args
  const k = kafka('groups-kafkajs-producer')
  const np = await withAdmin(async admin => {
    const md = await admin.fetchTopicMetadata({ topics: [topic] })
    return md.topics[0].partitions.length
  })
  const producer = k.producer()
  await producer.connect()
  const byPart = new Map()
  for (let i = Number(from); i < Number(from) + Number(count); i++) {
    const p = i % np
    if (!byPart.has(p)) byPart.set(p, [])
    byPart.get(p).push({ partition: p, value: String(i) })
  }
  for (let start = 0; ; start += 500) {
    const msgs = []
    for (const list of byPart.values()) msgs.push(...list.slice(start, start + 500))
    if (!msgs.length) break
    await producer.send({ topic, acks: -1, messages: msgs })
  }
  await producer.disconnect()
}

async function describe() {
  const [group, topic] = args
  await withAdmin(async admin => {
    const { groups } = await admin.describeGroups([group])
    const g = groups[0]
    if (g.errorCode) fail(`describeGroups ${group}: error ${g.errorCode}`)
    console.log(`${g.state} ${g.members.length}`)
    for (const m of g.members) {
      let parts = []
      if (m.memberAssignment && m.memberAssignment.length) {
        const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)
        parts = ((a && a.assignment[topic]) || []).slice().sort((x, y) => x - y)
      }
      console.log(`${m.memberId} ${parts.length ? parts.join(',') : '-'}`)
    }
  })
}

async function committed() {
  const [group, topic] = args
  await withAdmin(async admin => {
    const res = await admin.fetchOffsets({ groupId: group, topics: [topic] })
    const parts = res[0].partitions.slice().sort((a, b) => a.partition - b.partition)
    for (const p of parts) console.log(`${p.partition} ${p.offset}`)
  })
}

const modes = { consume, create, produce, describe, committed }
if (!modes[mode]) fail('unknown mode')
modes[mode]().then(
  () => {
    if (mode !== 'consume') process.exit(0)
  },
  e => fail(`${e.type || e.name}: ${e.message}`)
)
