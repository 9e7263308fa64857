// kafkajs over SASL_PLAINTEXT against Eddy: logs in with the mechanism given, produces COUNT
// records to TOPIC, reads them back in a consumer group, and exits 0 only when each came back
// once. With "expect-fail" as the last argument it must fail to log in instead.
// usage: node broker_sasl_kafkajs.js HOST:PORT MECHANISM USER PASSWORD TOPIC COUNT [expect-fail]
const { Kafka, logLevel } = require('kafkajs');

const [addr, mechanism, username, password, topic, countArg, mode] = process.argv.slice(2);
const count = parseInt(countArg, 10);

async function main() {
  const kafka = new Kafka({
    clientId: 'sasl-test',
    brokers: [addr],
    sasl: { mechanism: mechanism.toLowerCase(), username, password },
    ssl: false,
    logLevel: logLevel.NOTHING,
    retry: { retries: mode === 'expect-fail' ? 0 : 5 },
  });
  const producer = kafka.producer();
  try {
    await producer.connect();
  } catch (e) {
    if (mode === 'expect-fail' && e.name === 'KafkaJSSASLAuthenticationError') {
      console.log('refused: ' + e.message);
      return 0;
    }
    throw e;
  }
  if (mode === 'expect-fail') {
    console.error('logged in with credentials that should have been refused');
    return 1;
  }
  const values = [];
  for (let i = 0; i < count; i++) values.push({ value: `${mechanism}-${i}` });
  await producer.send({ topic, messages: values });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `g-${topic}`, sessionTimeout: 6000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Map();
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.size} of ${count} came back`)), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        const v = message.value.toString();
        seen.set(v, (seen.get(v) || 0) + 1);
        if (seen.size === count) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  for (const [v, n] of seen) if (n !== 1) throw new Error(`${v} came back ${n} times`);
  console.log(`kafkajs ${mechanism}: ${count} records produced and consumed`);
  return 0;
}

main().then((rc) => process.exit(rc), (e) => { console.error(e.stack || String(e)); process.exit(1); });
