import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/* Kafka's Java transactional producer and a read_committed Java consumer, for
 * tests/integration/java_txn.sh.
 *
 *   produce BOOTSTRAP TXNID TOPIC PREFIX N ACTIONS
 *       one producer with transactional.id TXNID runs one transaction per
 *       comma-separated action (commit, abort, hang); transaction t writes the
 *       values PREFIX-t-0 .. PREFIX-t-(N-1), record i to partition i modulo the
 *       topic's partitions, waits for every acknowledgement, then commits,
 *       aborts, or (hang) prints "open t" and sleeps until killed. Stdout,
 *       flushed: "init", "open t" (hang), "committed t", "aborted t". Exit 0, 1
 *       on a client error (stack trace on stderr).
 *   consume BOOTSTRAP TOPIC ISOLATION
 *       every partition of TOPIC from the beginning with isolation.level
 *       ISOLATION up to its end offset as the broker reports it for that
 *       isolation (read_committed: the last stable offset); each value on a
 *       line. Exit 1 when the end is not reached within 30 s.
 *   eos BOOTSTRAP TXNID GROUP IN_TOPIC OUT_TOPIC N ACTION
 *       consume-transform-produce: a consumer subscribed to IN_TOPIC in GROUP
 *       (read_committed, no auto commit) reads N records; in one transaction
 *       the producer writes "out-VALUE" for each to OUT_TOPIC and sends the
 *       consumer's positions with its group metadata
 *       (sendOffsetsToTransaction), then commits or aborts (ACTION). Stdout:
 *       "offset TOPIC PARTITION OFFSET" per partition sent, then "committed 0"
 *       or "aborted 0".
 *   committed BOOTSTRAP GROUP TOPIC
 *       the group's committed offsets (read_uncommitted: OffsetFetch without
 *       require_stable), "TOPIC PARTITION OFFSET" lines, -1001 for none. */
public final class EddyTxn {
    public static void main(String[] args) throws Exception {
        if (args.length == 7 && args[0].equals("produce")) {
            System.exit(produce(args));
        } else if (args.length == 4 && args[0].equals("consume")) {
            System.exit(consume(args));
        } else if (args.length == 8 && args[0].equals("eos")) {
            System.exit(eos(args));
        } else if (args.length == 4 && args[0].equals("committed")) {
            System.exit(committed(args));
        }
        System.err.println("usage: EddyTxn produce|consume ... (see the top of EddyTxn.java)");
        System.exit(2);
    }

    static int produce(String[] a) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", a[1]);
        p.put("transactional.id", a[2]);
        p.put("max.block.ms", "30000"); /* fail within the test's bounds when no coordinator answers */
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        String topic = a[3], prefix = a[4];
        int n = Integer.parseInt(a[5]);
        try (KafkaProducer<String, String> prod = new KafkaProducer<>(p)) {
            prod.initTransactions();
            System.out.println("init");
            System.out.flush();
            int parts = prod.partitionsFor(topic).size();
            String[] actions = a[6].split(",");
            for (int t = 0; t < actions.length; t++) {
                prod.beginTransaction();
                List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    acks.add(prod.send(new ProducerRecord<>(topic, i % parts, null, prefix + "-" + t + "-" + i)));
                }
                prod.flush();
                for (java.util.concurrent.Future<?> f : acks) f.get();
                switch (actions[t]) {
                case "commit":
                    prod.commitTransaction();
                    System.out.println("committed " + t);
                    break;
                case "abort":
                    prod.abortTransaction();
                    System.out.println("aborted " + t);
                    break;
                case "hang":
                    System.out.println("open " + t);
                    System.out.flush();
                    Thread.sleep(300_000);
                    return 1;
                default:
                    System.err.println("unknown action " + actions[t]);
                    return 2;
                }
                System.out.flush();
            }
        } catch (Exception e) {
            e.printStackTrace();
            return 1;
        }
        return 0;
    }

    static int consume(String[] a) {
        Properties p = new Properties();
        p.put("bootstrap.servers", a[1]);
        p.put("isolation.level", a[3]);
        p.put("enable.auto.commit", "false");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (PartitionInfo pi : c.partitionsFor(a[2])) tps.add(new TopicPartition(a[2], pi.partition()));
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            long deadline = System.currentTimeMillis() + 30_000;
            for (;;) {
                boolean done = true;
                for (TopicPartition tp : tps) {
                    if (c.position(tp) < end.get(tp)) done = false;
                }
                if (done) break;
                if (System.currentTimeMillis() > deadline) {
                    System.err.println("consume: not at the end offsets " + end + " within 30 s");
                    return 1;
                }
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    System.out.println(r.value());
                }
            }
            System.out.flush();
        } catch (Exception e) {
            e.printStackTrace();
            return 1;
        }
        return 0;
    }

    static int eos(String[] a) {
        Properties cp = new Properties();
        cp.put("bootstrap.servers", a[1]);
        cp.put("group.id", a[3]);
        cp.put("isolation.level", "read_committed");
        cp.put("enable.auto.commit", "false");
        cp.put("auto.offset.reset", "earliest");
        cp.put("key.deserializer", StringDeserializer.class.getName());
        cp.put("value.deserializer", StringDeserializer.class.getName());
        Properties pp = new Properties();
        pp.put("bootstrap.servers", a[1]);
        pp.put("transactional.id", a[2]);
        pp.put("max.block.ms", "30000");
        pp.put("key.serializer", StringSerializer.class.getName());
        pp.put("value.serializer", StringSerializer.class.getName());
        int n = Integer.parseInt(a[6]);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp);
             KafkaProducer<String, String> prod = new KafkaProducer<>(pp)) {
            prod.initTransactions();
            c.subscribe(List.of(a[4]));
            prod.beginTransaction();
            int got = 0;
            long deadline = System.currentTimeMillis() + 60_000;
            while (got < n) {
                if (System.currentTimeMillis() > deadline) {
                    System.err.println("eos: " + got + " of " + n + " records in 60 s");
                    return 1;
                }
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    prod.send(new ProducerRecord<>(a[5], null, "out-" + r.value()));
                    got++;
                }
            }
            prod.flush();
            Map<TopicPartition, OffsetAndMetadata> offs = new HashMap<>();
            for (TopicPartition tp : c.assignment()) {
                long pos = c.position(tp);
                offs.put(tp, new OffsetAndMetadata(pos));
                System.out.println("offset " + tp.topic() + " " + tp.partition() + " " + pos);
            }
            prod.sendOffsetsToTransaction(offs, c.groupMetadata());
            if (a[7].equals("commit")) {
                prod.commitTransaction();
                System.out.println("committed 0");
            } else {
                prod.abortTransaction();
                System.out.println("aborted 0");
            }
            System.out.flush();
        } catch (Exception e) {
            e.printStackTrace();
            return 1;
        }
        return 0;
    }

    static int committed(String[] a) {
        Properties p = new Properties();
        p.put("bootstrap.servers", a[1]);
        p.put("group.id", a[2]);
        p.put("enable.auto.commit", "false");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            Set<TopicPartition> tps = new HashSet<>();
            for (PartitionInfo pi : c.partitionsFor(a[3])) tps.add(new TopicPartition(a[3], pi.partition()));
            Map<TopicPartition, OffsetAndMetadata> m = c.committed(tps, Duration.ofSeconds(30));
            for (TopicPartition tp : tps) {
                OffsetAndMetadata o = m.get(tp);
                System.out.println(tp.topic() + " " + tp.partition() + " " + (o == null ? -1001 : o.offset()));
            }
        } catch (Exception e) {
            e.printStackTrace();
            return 1;
        }
        return 0;
    }
}
