// kafkajs 2.2.4 over TLS against an Eddy broker with two SSL listeners: SSL (server
// certificate only) and MTLS (ssl.client.auth=required through listener.name.mtls.*).
// On each: createTopics, a producer, and a consumer group (FindCoordinator, JoinGroup,
// SyncGroup, Fetch, OffsetCommit all over TLS) reading back what was produced. On MTLS a
// client without a certificate cannot connect; with alice's it can.
//
// usage: node kafkajs_tls.test.js SSL_HOST:PORT MTLS_HOST:PORT CERT_DIR
'use strict'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const assert = require('assert/strict')
const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')

const [sslAddr, mtlsAddr, certs] = process.argv.slice(2)
if (!certs) {
  console.error('usage: node kafkajs_tls.test.js SSL_HOST:PORT MTLS_HOST:PORT CERT_DIR')
  process.exit(2)
}
const t0 = Date.now()
const note = msg => console.error(`[kafkajs_tls +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`)
const overall = setTimeout(() => {
  console.error('FAIL kafkajs_tls: overall time limit (120 s) reached')
  process.exit(3)
}, 120000)

const read = f => fs.readFileSync(`${certs}/${f}`, 'utf8')
const ca = [read('ca.pem')]

function client(addr, ssl) {
  return new Kafka({
    clientId: 'eddy-compat-kafkajs-tls',
    brokers: [addr],
    ssl,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
  })
}

async function roundTrip(label, addr, ssl) {
  const kafka = client(addr, ssl)
  const topic = `tls-${label}`
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true })
  const md = await admin.fetchTopicMetadata({ topics: [topic] })
  assert.equal(md.topics[0].partitions.length, 2)
  await admin.disconnect()

  const producer = kafka.producer()
  await producer.connect()
  const sent = []
  for (let i = 0; i < 200; i++) sent.push({ key: `k${i}`, value: `${label}-${i}-${'v'.repeat(i * 10)}` })
  await producer.send({ topic, acks: -1, messages: sent })
  await producer.disconnect()
  note(`${label}: produced ${sent.length}`)

  const consumer = kafka.consumer({ groupId: `g-${label}`, sessionTimeout: 10000, heartbeatInterval: 1000 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const got = new Map()
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: consumed ${got.size} of ${sent.length} in 60 s`)), 60000)
    consumer.run({
      eachMessage: async ({ message }) => {
        got.set(message.key.toString(), message.value.toString())
        if (got.size === sent.length) {
          clearTimeout(timer)
          resolve()
        }
      },
    }).catch(reject)
  })
  await consumer.disconnect()
  for (const m of sent) assert.equal(got.get(m.key), m.value, `${label}: record ${m.key}`)
  note(`${label}: consumed ${got.size} through a group`)
}

async function refused(label, addr, ssl) {
  const admin = client(addr, ssl).admin()
  let err = null
  try {
    await admin.connect()
    await admin.listTopics()
  } catch (e) {
    err = e
  }
  await admin.disconnect().catch(() => {})
  assert.ok(err, `${label}: a client without a certificate got in`)
  note(`${label}: refused (${err.name})`)
}

;(async () => {
  await roundTrip('ssl', sslAddr, { ca })
  await refused('mtls-nocert', mtlsAddr, { ca })
  await roundTrip('mtls', mtlsAddr, { ca, cert: read('client.pem'), key: read('client.key') })
  clearTimeout(overall)
  console.log('kafkajs_tls: ok')
})().catch(e => {
  console.error('FAIL kafkajs_tls:', e && e.stack ? e.stack : e)
  process.exit(1)
})
