package io.qvirt.handler.net;

/** A datagram that is not a DHCP message qvirt can read; the message says what is wrong and where. */
public final class DhcpFormatException extends Exception {
    public DhcpFormatException(String message) {
        super(message);
    }
}
