// kafkajs 2.2.4 with every Kafka codec against an Eddy broker, the pieces compression.sh runs:
//
//   node compression.js HOST:PORT produce TOPIC CODEC N
//       N records (key k<i>, value v<i>-<text>, header h=<i>) in batches of 250, compressed
//       with CODEC (gzip built in; snappy, lz4 and zstd through the pure-JS codecs pinned in
//       package-lock.json: kafkajs-snappy, lz4js, zstd-codec).
//   node compression.js HOST:PORT consume TOPIC N
//       a kafkajs consumer (a group of its own, from the beginning) prints N records, one
//       line each: offset key value header, in offset order, and exits.
//
// Lines are in the same format as `eddy topic consume -f '%o %k %v %h\n'` with headers h=<i>.
'use strict'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const { Kafka, logLevel, CompressionTypes, CompressionCodecs } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const lz4 = require('lz4js')
const { ZstdCodec } = require('zstd-codec')

const [bootstrap, mode, topic, a4, a5] = process.argv.slice(2)
if (!bootstrap || !mode || !topic) {
  console.error('usage: node compression.js HOST:PORT produce TOPIC CODEC N | consume TOPIC N')
  process.exit(2)
}

setTimeout(() => {
  console.error(`FAIL compression.js ${mode} ${topic}: time limit (60 s) reached`)
  process.exit(3)
}, 60000).unref()

function zstdReady() {
  return new Promise(resolve => ZstdCodec.run(z => resolve(new z.Simple())))
}

async function registerCodecs() {
  CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    async compress(encoder) {
      return Buffer.from(lz4.compress(encoder.buffer))
    },
    async decompress(buffer) {
      return Buffer.from(lz4.decompress(buffer))
    },
  })
  const zstd = await zstdReady()
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    async compress(encoder) {
      return Buffer.from(zstd.compress(encoder.buffer, 3))
    },
    async decompress(buffer) {
      return Buffer.from(zstd.decompress(buffer))
    },
  })
}

const kafka = new Kafka({
  clientId: 'eddy-compat-compression',
  brokers: [bootstrap],
  logLevel: logLevel.WARN,
  connectionTimeout: 5000,
  requestTimeout: 15000,
  retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
})

const codecs = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}

async function produce(codec, n) {
  if (!(codec in codecs)) throw new Error(`unknown codec ${codec}`)
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const text = 'the quick brown fox jumps over the lazy dog '.repeat(3)
  for (let i = 0; i < n; i += 250) {
    const messages = []
    for (let j = i; j < Math.min(n, i + 250); j++)
      messages.push({ key: `k${j}`, value: `v${j}-${text}`, headers: { h: String(j) } })
    await producer.send({ topic, acks: -1, compression: codecs[codec], messages })
  }
  await producer.disconnect()
}

async function consume(n) {
  const consumer = kafka.consumer({ groupId: `compat-z-${topic}-${process.pid}`, sessionTimeout: 10000 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const lines = []
  await new Promise((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          const h = Object.entries(message.headers || {})
            .map(([k, v]) => `${k}=${v === null ? 'null' : v.toString()}`)
            .join(',')
          lines.push(`${message.offset} ${message.key} ${message.value} ${h}`)
          if (lines.length >= n) resolve()
        },
      })
      .catch(reject)
  })
  await consumer.disconnect()
  process.stdout.write(lines.slice(0, n).join('\n') + '\n')
}

async function main() {
  await registerCodecs()
  if (mode === 'produce') await produce(a4, Number(a5))
  else if (mode === 'consume') await consume(Number(a4))
  else throw new Error(`unknown mode ${mode}`)
}

main().then(
  () => process.exit(0),
  e => {
    console.error(`FAIL compression.js ${mode} ${topic}: ${e.stack || e}`)
    process.exit(1)
  },
)
