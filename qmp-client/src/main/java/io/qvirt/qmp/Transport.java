package io.qvirt.qmp;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Process-wide resources shared by all clients: one epoll event loop group and one pool for user code
 * (listeners, dependent stages of returned futures). All threads are daemons, so an application never
 * has to shut them down.
 */
final class Transport {
    private Transport() {
    }

    private static final class Loop {
        static final EventLoopGroup GROUP;

        static {
            Epoll.ensureAvailability();
            // QMP traffic is light; two loops spread many monitors without costing much per process.
            int threads = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
            GROUP = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("qmp-epoll", true),
                    EpollIoHandler.newFactory());
        }
    }

    private static final class Pool {
        static final ExecutorService USER = Executors.newCachedThreadPool(new ThreadFactory() {
            private final AtomicInteger n = new AtomicInteger();

            @Override
            public Thread newThread(Runnable r) {
                Thread t = new Thread(r, "qmp-user-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            }
        });
    }

    static EventLoopGroup group() {
        return Loop.GROUP;
    }

    /** Where user callbacks run by default: never an event loop thread. */
    static ExecutorService userPool() {
        return Pool.USER;
    }
}
