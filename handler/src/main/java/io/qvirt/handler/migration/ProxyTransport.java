package io.qvirt.handler.migration;

import io.netty.channel.Channel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.function.Function;

/** Netty's channel classes for the proxy: epoll where its native library loads (every handler image), else NIO. */
record ProxyTransport(IoHandlerFactory ioHandlers, Class<? extends ServerChannel> tcpServer,
                      Class<? extends Channel> tcpClient, Class<? extends ServerChannel> unixServer,
                      Class<? extends Channel> unixClient, Function<Path, SocketAddress> unixAddress) {
    static ProxyTransport best() {
        if (Epoll.isAvailable()) {
            return new ProxyTransport(EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                    EpollSocketChannel.class, EpollServerDomainSocketChannel.class, EpollDomainSocketChannel.class,
                    p -> new DomainSocketAddress(p.toFile()));
        }
        return new ProxyTransport(NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
                NioServerDomainSocketChannel.class, NioDomainSocketChannel.class, UnixDomainSocketAddress::of);
    }
}
