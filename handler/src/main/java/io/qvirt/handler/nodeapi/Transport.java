package io.qvirt.handler.nodeapi;

import io.netty.channel.Channel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * Netty's channel classes for the node API: epoll (TCP listener, the consoles' Unix sockets, port-forward's TCP
 * connections to pod addresses) where
 * the native library loads, which is every handler image; the JDK's NIO otherwise, so the class also runs
 * where epoll is missing (a developer's machine).
 */
record Transport(String name, IoHandlerFactory ioHandlers, Class<? extends ServerChannel> tcpServer,
                 Class<? extends Channel> unixClient, Function<Path, SocketAddress> unixAddress,
                 Class<? extends Channel> tcpClient) {

    static Transport best() {
        if (Epoll.isAvailable()) {
            return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                    EpollDomainSocketChannel.class, p -> new DomainSocketAddress(p.toFile()), EpollSocketChannel.class);
        }
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class,
                NioDomainSocketChannel.class, UnixDomainSocketAddress::of, NioSocketChannel.class);
    }
}
