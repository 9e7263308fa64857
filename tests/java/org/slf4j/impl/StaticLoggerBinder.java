package org.slf4j.impl;

import java.io.PrintStream;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.helpers.FormattingTuple;
import org.slf4j.helpers.MarkerIgnoringBase;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.LoggerFactoryBinder;

/* The Kafka jars that scripts/kafka.sh fetches carry slf4j-api 1.7 beside a
 * log4j binding for slf4j 2, so every client and tool logs nothing. The test
 * programs bind slf4j 1.7 to stderr instead: a warning or error the client
 * logs (an API the broker does not answer, a fatal producer error) ends up in
 * the test's logs. Level from -Deddy.log=TRACE|DEBUG|INFO|WARN|ERROR
 * (default WARN). */
public final class StaticLoggerBinder implements LoggerFactoryBinder {
    private static final StaticLoggerBinder SINGLETON = new StaticLoggerBinder();
    public static String REQUESTED_API_VERSION = "1.7.36";
    private static final int LEVEL = level(System.getProperty("eddy.log", "WARN"));
    private static final PrintStream OUT = System.err;
    private final ILoggerFactory factory = name -> new StderrLogger(name);

    public static StaticLoggerBinder getSingleton() { return SINGLETON; }
    @Override public ILoggerFactory getLoggerFactory() { return factory; }
    @Override public String getLoggerFactoryClassStr() { return StderrLogger.class.getName(); }

    static int level(String s) {
        switch (s.toUpperCase()) {
        case "TRACE": return 0;
        case "DEBUG": return 1;
        case "INFO": return 2;
        case "ERROR": return 4;
        default: return 3;
        }
    }

    static final class StderrLogger extends MarkerIgnoringBase {
        private static final String[] NAMES = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"};
        StderrLogger(String name) { this.name = name; }

        private boolean on(int l) { return l >= LEVEL; }
        private void log(int l, FormattingTuple t) {
            if (!on(l)) return;
            StringBuilder b = new StringBuilder();
            b.append(java.time.Instant.now()).append(' ').append(NAMES[l]).append(" [")
                .append(Thread.currentThread().getName()).append("] ")
                .append(name.substring(name.lastIndexOf('.') + 1)).append(": ").append(t.getMessage());
            synchronized (OUT) {
                OUT.println(b);
                if (t.getThrowable() != null) t.getThrowable().printStackTrace(OUT);
            }
        }
        private void f(int l, String m) { if (on(l)) log(l, new FormattingTuple(m)); }
        private void f(int l, String m, Object a) { if (on(l)) log(l, MessageFormatter.format(m, a)); }
        private void f(int l, String m, Object a, Object b) { if (on(l)) log(l, MessageFormatter.format(m, a, b)); }
        private void f(int l, String m, Object... a) { if (on(l)) log(l, MessageFormatter.arrayFormat(m, a)); }
        private void f(int l, String m, Throwable t) { if (on(l)) log(l, new FormattingTuple(m, null, t)); }

        @Override public boolean isTraceEnabled() { return on(0); }
        @Override public void trace(String m) { f(0, m); }
        @Override public void trace(String m, Object a) { f(0, m, a); }
        @Override public void trace(String m, Object a, Object b) { f(0, m, a, b); }
        @Override public void trace(String m, Object... a) { f(0, m, a); }
        @Override public void trace(String m, Throwable t) { f(0, m, t); }
        @Override public boolean isDebugEnabled() { return on(1); }
        @Override public void debug(String m) { f(1, m); }
        @Override public void debug(String m, Object a) { f(1, m, a); }
        @Override public void debug(String m, Object a, Object b) { f(1, m, a, b); }
        @Override public void debug(String m, Object... a) { f(1, m, a); }
        @Override public void debug(String m, Throwable t) { f(1, m, t); }
        @Override public boolean isInfoEnabled() { return on(2); }
        @Override public void info(String m) { f(2, m); }
        @Override public void info(String m, Object a) { f(2, m, a); }
        @Override public void info(String m, Object a, Object b) { f(2, m, a, b); }
        @Override public void info(String m, Object... a) { f(2, m, a); }
        @Override public void info(String m, Throwable t) { f(2, m, t); }
        @Override public boolean isWarnEnabled() { return on(3); }
        @Override public void warn(String m) { f(3, m); }
        @Override public void warn(String m, Object a) { f(3, m, a); }
        @Override public void warn(String m, Object a, Object b) { f(3, m, a, b); }
        @Override public void warn(String m, Object... a) { f(3, m, a); }
        @Override public void warn(String m, Throwable t) { f(3, m, t); }
        @Override public boolean isErrorEnabled() { return on(4); }
        @Override public void error(String m) { f(4, m); }
        @Override public void error(String m, Object a) { f(4, m, a); }
        @Override public void error(String m, Object a, Object b) { f(4, m, a, b); }
        @Override public void error(String m, Object... a) { f(4, m, a); }
        @Override public void error(String m, Throwable t) { f(4, m, t); }
    }
}
