import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.processor.TimestampExtractor;

/* A Kafka Streams (Java) application written for the tests against an Eddy
 * broker (tests/integration/java_suite.sh). Two sub-topologies over INPUT
 * (records key=KEY, value="ID TS TEXT..." from EddyClients produce):
 *   - word count: every word of TEXT, regrouped by word (a repartition topic),
 *     counted (a changelog topic), to OUT_PREFIX-words as word -> count;
 *   - windowed count: per KEY, tumbling 1-minute windows on the event time TS
 *     (milliseconds, taken from the value by a TimestampExtractor), counted,
 *     to OUT_PREFIX-windows as "KEY@WINDOW_START" -> count.
 *
 *   EddyStreams BOOTSTRAP APPLICATION_ID INPUT OUT_PREFIX STATE_DIR [key=value...]
 *
 * Settings are Kafka Streams' defaults (at_least_once) except those given as
 * arguments. Prints "STATE NEW_STATE" on every state change and, while
 * RUNNING, "ACTIVE TASK,TASK,...|-" when its active tasks change; SIGTERM closes
 * the application and prints "CLOSED" (the JVM then exits with 143, as on any
 * SIGTERM). */
public final class EddyStreams {
    /* The event time is the second word of the value. */
    public static final class ValueTime implements TimestampExtractor {
        @Override public long extract(ConsumerRecord<Object, Object> r, long partitionTime) {
            String v = (String) r.value();
            String[] f = v.split(" ", 3);
            return Long.parseLong(f[1]);
        }
    }

    public static void main(String[] a) throws Exception {
        if (a.length < 5) {
            System.err.println("usage: EddyStreams BOOTSTRAP APPLICATION_ID INPUT OUT_PREFIX STATE_DIR [key=value...]");
            System.exit(2);
        }
        Properties p = new Properties();
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, a[0]);
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, a[1]);
        p.put(StreamsConfig.STATE_DIR_CONFIG, a[4]);
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        for (int i = 5; i < a.length; i++) {
            int eq = a[i].indexOf('=');
            p.put(a[i].substring(0, eq), a[i].substring(eq + 1));
        }
        String out = a[3];
        StreamsBuilder b = new StreamsBuilder();
        KStream<String, String> in = b.stream(a[2],
            Consumed.with(Serdes.String(), Serdes.String()).withTimestampExtractor(new ValueTime()));
        in.flatMapValues(v -> {
                String[] f = v.split(" ", 3);
                return f.length < 3 ? Arrays.<String>asList() : Arrays.asList(f[2].split(" +"));
            })
            .groupBy((k, w) -> w, Grouped.with("words", Serdes.String(), Serdes.String()))
            .count(Materialized.as("word-counts"))
            .toStream()
            .to(out + "-words", Produced.with(Serdes.String(), Serdes.Long()));
        in.groupByKey()
            .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(1), Duration.ofDays(1)))
            .count(Materialized.as("window-counts"))
            .toStream()
            .map((wk, c) -> KeyValue.pair(wk.key() + "@" + wk.window().start(), c))
            .to(out + "-windows", Produced.with(Serdes.String(), Serdes.Long()));

        KafkaStreams s = new KafkaStreams(b.build(), p);
        CountDownLatch done = new CountDownLatch(1);
        s.setStateListener((now, before) -> {
            System.out.println("STATE " + now);
            System.out.flush();
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) done.countDown();
        });
        s.setUncaughtExceptionHandler(e -> {
            System.err.println("EddyStreams: uncaught exception in a stream thread:");
            e.printStackTrace();
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        // The state listener runs after close() has seen NOT_RUNNING, maybe
        // after the JVM exits: the hook prints the outcome itself.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            boolean closed = s.close(Duration.ofSeconds(20));
            System.out.println(closed ? "CLOSED" : "CLOSE TIMED OUT");
            System.out.flush();
            done.countDown();
        }));
        s.start();
        // The active tasks of this instance, printed when they change: the
        // test kills an instance that owns tasks and sees the survivor take
        // them all.
        String shown = "";
        while (!done.await(200, TimeUnit.MILLISECONDS)) {
            if (s.state() != KafkaStreams.State.RUNNING) continue;
            TreeSet<String> tasks = new TreeSet<>();
            for (ThreadMetadata t : s.metadataForLocalThreads())
                for (TaskMetadata m : t.activeTasks()) tasks.add(m.taskId().toString());
            String now = String.join(",", tasks);
            if (!now.equals(shown)) {
                System.out.println("ACTIVE " + (now.isEmpty() ? "-" : now));
                System.out.flush();
                shown = now;
            }
        }
        System.exit(s.state() == KafkaStreams.State.ERROR ? 1 : 0);
    }
}
