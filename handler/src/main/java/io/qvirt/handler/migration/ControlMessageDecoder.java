package io.qvirt.handler.migration;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import java.util.List;

/** A control line ({@link LineDecoder}'s String) to a {@link ControlMessage}. */
final class ControlMessageDecoder extends MessageToMessageDecoder<String> {
    ControlMessageDecoder() {
        super(String.class);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, String line, List<Object> out) {
        out.add(ControlMessage.parse(line));
    }
}
