package io.qvirt.qmp;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * How a {@link QmpClient} behaves. Immutable; start from {@link #defaults()} and use the withers or
 * {@link #builder()}.
 *
 * @param maxFrameBytes    largest single JSON message accepted from the server (default 8 MiB); a
 *                         larger one closes the connection with {@link QmpFrameTooLargeException}
 * @param maxInFlight      commands sent to the server and not yet answered (default 8, QEMU's queue
 *                         depth per monitor); further commands wait in the client, in order.
 *                         {@code exec-oob} commands bypass this limit, as they bypass QEMU's queue
 * @param commandTimeout   per command, from submission to reply (default 30 s)
 * @param connectTimeout   connect, greeting and {@code qmp_capabilities} together (default 10 s)
 * @param enableOob        ask for the {@code oob} capability when the server offers it (default true)
 * @param listenerExecutor runs event listeners, one at a time per client in arrival order; null means
 *                         a shared daemon pool. Pass {@code Runnable::run} to run listeners on the
 *                         event loop thread (they must then never block)
 */
public record QmpOptions(int maxFrameBytes, int maxInFlight, Duration commandTimeout, Duration connectTimeout,
                         boolean enableOob, Executor listenerExecutor) {
    public static final int DEFAULT_MAX_FRAME_BYTES = 8 << 20;
    public static final int DEFAULT_MAX_IN_FLIGHT = 8;
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    public QmpOptions {
        if (maxFrameBytes < 64) {
            throw new IllegalArgumentException("maxFrameBytes must be >= 64, got " + maxFrameBytes);
        }
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be >= 1, got " + maxInFlight);
        }
        requirePositive("commandTimeout", commandTimeout);
        requirePositive("connectTimeout", connectTimeout);
    }

    private static void requirePositive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }

    /** 8 MiB frames, 8 in flight, 30 s per command, 10 s to connect, OOB on, shared listener pool. */
    public static QmpOptions defaults() {
        return new QmpOptions(DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_IN_FLIGHT, DEFAULT_COMMAND_TIMEOUT,
                DEFAULT_CONNECT_TIMEOUT, true, null);
    }

    public QmpOptions withMaxFrameBytes(int v) {
        return new QmpOptions(v, maxInFlight, commandTimeout, connectTimeout, enableOob, listenerExecutor);
    }

    public QmpOptions withMaxInFlight(int v) {
        return new QmpOptions(maxFrameBytes, v, commandTimeout, connectTimeout, enableOob, listenerExecutor);
    }

    public QmpOptions withCommandTimeout(Duration v) {
        return new QmpOptions(maxFrameBytes, maxInFlight, v, connectTimeout, enableOob, listenerExecutor);
    }

    public QmpOptions withConnectTimeout(Duration v) {
        return new QmpOptions(maxFrameBytes, maxInFlight, commandTimeout, v, enableOob, listenerExecutor);
    }

    public QmpOptions withEnableOob(boolean v) {
        return new QmpOptions(maxFrameBytes, maxInFlight, commandTimeout, connectTimeout, v, listenerExecutor);
    }

    public QmpOptions withListenerExecutor(Executor v) {
        return new QmpOptions(maxFrameBytes, maxInFlight, commandTimeout, connectTimeout, enableOob, v);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Mutable builder starting from {@link #defaults()}. */
    public static final class Builder {
        private QmpOptions o = defaults();

        public Builder maxFrameBytes(int v) {
            o = o.withMaxFrameBytes(v);
            return this;
        }

        public Builder maxInFlight(int v) {
            o = o.withMaxInFlight(v);
            return this;
        }

        public Builder commandTimeout(Duration v) {
            o = o.withCommandTimeout(v);
            return this;
        }

        public Builder connectTimeout(Duration v) {
            o = o.withConnectTimeout(v);
            return this;
        }

        public Builder enableOob(boolean v) {
            o = o.withEnableOob(v);
            return this;
        }

        public Builder listenerExecutor(Executor v) {
            o = o.withListenerExecutor(v);
            return this;
        }

        public QmpOptions build() {
            return o;
        }
    }
}
