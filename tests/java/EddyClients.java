import java.io.BufferedReader;
import java.io.FileReader;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/* Kafka's Java producer and consumer with their default settings, for the
 * tests against an Eddy broker (tests/integration/java_suite.sh).
 *
 *   produce BOOTSTRAP TOPIC CORPUS [FROM [TO]]
 *       lines FROM..TO-1 (0-based, default all) of CORPUS ("ID KEY TS TEXT...",
 *       space-separated) as records key=KEY, value="ID TS TEXT...". Producer
 *       defaults (enable.idempotence=true, acks=all, retries unbounded); exits 0
 *       once every record is acknowledged, 1 on the first failure. Prints
 *       "ACKED N" and, per partition, "PARTITION P LAST_OFFSET".
 *   consume BOOTSTRAP TOPIC GROUP NAME [MAX]
 *       a subscribed consumer with default settings (group.id=GROUP,
 *       auto.offset.reset=earliest: the default "latest" would skip what was
 *       written before it joined), until MAX records or SIGTERM (then close(),
 *       which commits and leaves the group). Stdout, flushed per line:
 *           NAME ASSIGN P,P,...|-      after each rebalance
 *           NAME REC P OFFSET ID       per record (ID: first word of the value)
 *           NAME EXIT                  after close()
 * Every client error is printed on stderr with its stack trace. */
public final class EddyClients {
    public static void main(String[] args) throws Exception {
        if (args.length >= 4 && args[0].equals("produce")) {
            System.exit(produce(args));
        } else if (args.length >= 5 && args[0].equals("consume")) {
            System.exit(consume(args));
        }
        System.err.println("usage: EddyClients produce|consume ... (see the top of EddyClients.java)");
        System.exit(2);
    }

    static int produce(String[] a) throws Exception {
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new FileReader(a[3]))) {
            for (String l; (l = r.readLine()) != null;) lines.add(l);
        }
        int from = a.length > 4 ? Integer.parseInt(a[4]) : 0;
        int to = a.length > 5 ? Integer.parseInt(a[5]) : lines.size();
        Properties p = new Properties();
        p.put("bootstrap.servers", a[1]);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        AtomicReference<Exception> failed = new AtomicReference<>();
        AtomicLong acked = new AtomicLong();
        long[] last = new long[1024];
        java.util.Arrays.fill(last, -1);
        try (KafkaProducer<String, String> prod = new KafkaProducer<>(p)) {
            for (int i = from; i < to && failed.get() == null; i++) {
                String[] f = lines.get(i).split(" ", 3);
                String value = f[0] + " " + f[2];
                prod.send(new ProducerRecord<>(a[2], f[1], value), (md, e) -> {
                    if (e != null) {
                        failed.compareAndSet(null, e);
                    } else {
                        acked.incrementAndGet();
                        synchronized (last) {
                            if (md.partition() < last.length)
                                last[md.partition()] = Math.max(last[md.partition()], md.offset());
                        }
                    }
                });
            }
            prod.flush();
        }
        if (failed.get() != null) {
            System.err.println("produce failed after " + acked.get() + " acknowledged record(s):");
            failed.get().printStackTrace();
            return 1;
        }
        System.out.println("ACKED " + acked.get());
        for (int i = 0; i < last.length; i++)
            if (last[i] >= 0) System.out.println("PARTITION " + i + " " + last[i]);
        return acked.get() == to - from ? 0 : 1;
    }

    static int consume(String[] a) throws Exception {
        String name = a[4];
        long max = a.length > 5 ? Long.parseLong(a[5]) : Long.MAX_VALUE;
        Properties p = new Properties();
        p.put("bootstrap.servers", a[1]);
        p.put("group.id", a[3]);
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        PrintStream out = System.out;
        KafkaConsumer<String, String> c = new KafkaConsumer<>(p);
        CountDownLatch closed = new CountDownLatch(1);
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            c.wakeup();
            try {
                closed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        TreeSet<Integer> mine = new TreeSet<>();
        c.subscribe(List.of(a[2]), new ConsumerRebalanceListener() {
            void show() {
                StringBuilder b = new StringBuilder();
                for (int q : mine) b.append(b.length() > 0 ? "," : "").append(q);
                out.println(name + " ASSIGN " + (b.length() > 0 ? b : "-"));
                out.flush();
            }
            @Override public void onPartitionsRevoked(Collection<TopicPartition> ps) {
                for (TopicPartition tp : ps) mine.remove(tp.partition());
            }
            @Override public void onPartitionsAssigned(Collection<TopicPartition> ps) {
                for (TopicPartition tp : ps) mine.add(tp.partition());
                show();
            }
            @Override public void onPartitionsLost(Collection<TopicPartition> ps) {
                for (TopicPartition tp : ps) mine.remove(tp.partition());
                show();
            }
        });
        long n = 0;
        int rc = 0;
        try {
            while (n < max) {
                ConsumerRecords<String, String> rs = c.poll(Duration.ofMillis(500));
                for (ConsumerRecord<String, String> r : rs) {
                    String v = r.value();
                    int sp = v.indexOf(' ');
                    out.println(name + " REC " + r.partition() + " " + r.offset() + " "
                        + (sp < 0 ? v : v.substring(0, sp)));
                    n++;
                }
                out.flush();
            }
        } catch (WakeupException e) {
            // SIGTERM: close below commits what was consumed and leaves the group.
        } catch (Exception e) {
            e.printStackTrace();
            rc = 1;
        } finally {
            try {
                c.close(Duration.ofSeconds(10));
            } catch (Exception e) {
                e.printStackTrace();
                rc = 1;
            }
            out.println(name + " EXIT");
            out.flush();
            closed.countDown();
        }
        return rc;
    }
}
