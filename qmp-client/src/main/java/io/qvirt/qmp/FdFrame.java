package io.qvirt.qmp;

import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;

/** Encoded command bytes that must leave together with a descriptor in one sendmsg. Owns {@code data}. */
final class FdFrame extends AbstractReferenceCounted {
    final ByteBuf data;
    final int fd;

    FdFrame(ByteBuf data, int fd) {
        this.data = data;
        this.fd = fd;
    }

    @Override
    protected void deallocate() {
        data.release();
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        data.touch(hint);
        return this;
    }
}
