package eddy.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

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

/**
 * The word count of Eddy's examples/wordcount, written with Kafka Streams, so
 * that bench/bench_kafka.sh compares the two runtimes on the same work.
 *
 * Same topology: lines (string) -> words keyed by the word (re-keying makes a
 * repartition topic) -> count in a store named "counts" (changelogged) ->
 * output topic, key the word, value the count as an 8-byte big-endian long.
 * Same tokenizer: runs of ASCII letters and digits, lower-cased.
 *
 *   WordCount --input lines --output word-counts [-X key=value ...]
 *
 * -X sets any Streams setting (bootstrap.servers, application.id, state.dir,
 * commit.interval.ms, ...). It stops cleanly on SIGTERM.
 */
public final class WordCount {
    static List<KeyValue<String, String>> split(String line) {
        List<KeyValue<String, String>> out = new ArrayList<>();
        if (line == null)
            return out;
        StringBuilder w = new StringBuilder();
        for (int i = 0, n = line.length(); i <= n; i++) {
            char c = i < n ? line.charAt(i) : ' ';
            if (c < 128 && Character.isLetterOrDigit(c)) {
                w.append(Character.toLowerCase(c));
            } else if (w.length() > 0) {
                String s = w.toString();
                out.add(KeyValue.pair(s, s));
                w.setLength(0);
            }
        }
        return out;
    }

    public static void main(String[] args) throws InterruptedException {
        String input = "lines", output = "word-counts";
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "wordcount");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                System.err.println("usage: WordCount [--input T] [--output T] [-X key=value]...");
                System.exit(2);
            }
            String v = args[++i];
            if (a.equals("--input")) {
                input = v;
            } else if (a.equals("--output")) {
                output = v;
            } else if (a.equals("-X") && v.indexOf('=') > 0) {
                p.put(v.substring(0, v.indexOf('=')), v.substring(v.indexOf('=') + 1));
            } else {
                System.err.println("WordCount: unknown argument " + a + " " + v);
                System.exit(2);
            }
        }

        StreamsBuilder b = new StreamsBuilder();
        KStream<String, String> lines = b.stream(input, Consumed.with(Serdes.String(), Serdes.String()));
        lines.flatMap((k, line) -> split(line))
                .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                .count(Materialized.as("counts"))
                .toStream()
                .to(output, Produced.with(Serdes.String(), Serdes.Long()));

        KafkaStreams streams = new KafkaStreams(b.build(), p);
        CountDownLatch done = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING)
                done.countDown();
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close();
            done.countDown();
        }));
        streams.start();
        done.await();
        streams.close();
    }
}
