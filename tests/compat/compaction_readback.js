// Reads `count` records of a topic from the earliest offset with a kafkajs consumer group
// and prints "offset key value" lines (used by compaction_readback.sh).
const { Kafka, logLevel } = require('kafkajs')

const [bootstrap, topic, countArg] = process.argv.slice(2)
const want = Number(countArg)
const kafka = new Kafka({ clientId: 'readback', brokers: [bootstrap], logLevel: logLevel.NOTHING })
const consumer = kafka.consumer({ groupId: `readback-${Date.now()}`, sessionTimeout: 10000 })

async function main () {
  const lines = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${lines.length} of ${want} records`)), 45000)
    consumer.run({
      eachMessage: async ({ message }) => {
        lines.push(`${message.offset} ${message.key} ${message.value}`)
        if (lines.length === want) {
          clearTimeout(timer)
          resolve()
        }
      }
    }).catch(reject)
  })
  await consumer.disconnect()
  process.stdout.write(lines.join('\n') + '\n')
}

main().catch(err => {
  console.error(err.message)
  process.exit(1)
})
