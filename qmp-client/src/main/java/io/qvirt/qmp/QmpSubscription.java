package io.qvirt.qmp;

import java.util.function.Consumer;
import java.util.function.Predicate;

/** An event subscription; {@link #close()} stops delivery (an event already being delivered finishes). */
public final class QmpSubscription implements AutoCloseable {
    private final QmpClient client;
    private final Predicate<QmpEvent> filter;
    private final Consumer<QmpEvent> listener;
    private volatile boolean open = true;

    QmpSubscription(QmpClient client, Predicate<QmpEvent> filter, Consumer<QmpEvent> listener) {
        this.client = client;
        this.filter = filter;
        this.listener = listener;
    }

    Predicate<QmpEvent> filter() {
        return filter;
    }

    Consumer<QmpEvent> listener() {
        return listener;
    }

    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        open = false;
        client.unsubscribe(this);
    }
}
