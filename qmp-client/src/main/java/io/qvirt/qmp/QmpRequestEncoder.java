package io.qvirt.qmp;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import io.qvirt.qmp.codec.QmpMessageDecoder;
import java.io.IOException;
import java.util.List;

/**
 * {@link QmpRequest} -> {@code {"execute"|"exec-oob": ..., "arguments": ..., "id": N}\n} as a ByteBuf,
 * or as an {@link FdFrame} when a descriptor goes with it. Sharable: no state.
 */
@io.netty.channel.ChannelHandler.Sharable
final class QmpRequestEncoder extends MessageToMessageEncoder<QmpRequest> {
    static final QmpRequestEncoder INSTANCE = new QmpRequestEncoder();

    private QmpRequestEncoder() {
        super(QmpRequest.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, QmpRequest req, List<Object> out) throws IOException {
        ByteBuf buf = ctx.alloc().buffer(64);
        boolean ok = false;
        try {
            encode(req, buf);
            ok = true;
        } finally {
            if (!ok) {
                buf.release();
            }
        }
        out.add(req.fd() >= 0 ? new FdFrame(buf, req.fd()) : buf);
    }

    static void encode(QmpRequest req, ByteBuf buf) throws IOException {
        try (ByteBufOutputStream os = new ByteBufOutputStream(buf);
             JsonGenerator g = QmpMessageDecoder.MAPPER.getFactory().createGenerator((java.io.OutputStream) os,
                     JsonEncoding.UTF8)) {
            g.writeStartObject();
            g.writeStringField(req.oob() ? "exec-oob" : "execute", req.command());
            if (req.args() != null) {
                g.writeFieldName("arguments");
                QmpMessageDecoder.MAPPER.writeTree(g, req.args());
            }
            g.writeNumberField("id", req.id());
            g.writeEndObject();
            g.flush();
            os.write('\n');
        }
    }
}
