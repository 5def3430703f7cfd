package io.qvirt.handler.nodeapi;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.AttributeKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Lets a connection's bytes through only after its TLS handshake verified a client certificate.
 *
 * <p>The {@link io.netty.handler.ssl.SslContext} already requires one signed by the client CA
 * ({@code ClientAuth.REQUIRE}); this gate is the second lock on the door: nothing reaches the router
 * from a connection whose session has no verified peer, whatever the context's configuration, and it
 * records who the client is ({@link #CLIENT}) for the console's lock and the logs. It sits right after
 * the {@link SslHandler}, holds nothing back (the handshake completes before any application data is
 * decrypted) and removes itself once the client is known.
 */
final class ClientCertificateGate extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(ClientCertificateGate.class.getName());
    /** The verified client certificate's subject (RFC 2253), set once the handshake succeeded. */
    static final AttributeKey<String> CLIENT = AttributeKey.valueOf("qvirt.nodeapi.client");

    private boolean verified;

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (!done.isSuccess()) {
                // The SslHandler has sent its alert and closes; say why at FINE (scanners cause these).
                LOG.log(Level.FINE, "node API TLS handshake from " + ctx.channel().remoteAddress() + " failed: " + done.cause());
                ctx.close();
                return;
            }
            String subject = verifiedSubject(ctx);
            if (subject == null) {
                LOG.warning("node API connection from " + ctx.channel().remoteAddress() + " has no verified client certificate; closed");
                ctx.close();
                return;
            }
            ctx.channel().attr(CLIENT).set(subject);
            verified = true;
            ctx.pipeline().remove(this);
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!verified) {
            // Cannot happen with an SslHandler in front (no application data before the handshake), but
            // if it ever did, nothing unauthenticated goes further.
            io.netty.util.ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private static String verifiedSubject(ChannelHandlerContext ctx) {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return null;
        }
        try {
            Certificate[] peer = ssl.engine().getSession().getPeerCertificates();
            if (peer.length > 0 && peer[0] instanceof X509Certificate x) {
                return x.getSubjectX500Principal().getName();
            }
            return null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }
}
