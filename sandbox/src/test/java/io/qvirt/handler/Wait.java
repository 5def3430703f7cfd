package io.qvirt.handler;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polling for tests: what is waited for happens on another thread; the caller asserts afterwards. */
public final class Wait {
    private Wait() {
    }

    /** Polls {@code condition} every 20 ms until it holds or {@code timeout} passes; returns whether it held. */
    public static boolean until(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }
}
