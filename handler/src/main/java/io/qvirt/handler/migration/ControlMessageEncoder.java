package io.qvirt.handler.migration;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/** A {@link ControlMessage} to its JSON line; one over {@link ControlMessage#MAX_LINE} fails its write. */
final class ControlMessageEncoder extends MessageToByteEncoder<ControlMessage> {
    ControlMessageEncoder() {
        super(ControlMessage.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, ControlMessage msg, ByteBuf out) throws Exception {
        byte[] json = ControlMessage.JSON.writeValueAsBytes(msg.toJson());
        if (json.length + 1 > ControlMessage.MAX_LINE) {
            throw new ProxyProtocolException("control message of " + (json.length + 1) + " bytes is over the cap of "
                    + ControlMessage.MAX_LINE);
        }
        out.writeBytes(json).writeByte('\n');
    }
}
