package io.qvirt.handler.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The lease logic: an OFFER and ACK for the leased MAC only, NAK otherwise, KubeVirt's options. */
class DhcpRepliesTest {
    static final DhcpLease LEASE = new DhcpLease("0A:58:0a:f4:00:07", "10.244.0.7", 24, "10.244.0.1",
            List.of("10.96.0.10"), List.of("default.svc.cluster.local", "svc.cluster.local"), "testvm", 1450,
            "169.254.75.10");

    private static DhcpMessage request(String mac, String requested, String server) {
        Map<Integer, byte[]> o = new LinkedHashMap<>();
        o.put(DhcpMessage.OPT_MESSAGE_TYPE, new byte[] {DhcpMessage.REQUEST});
        if (requested != null) {
            o.put(DhcpMessage.OPT_REQUESTED_IP, DhcpLease.parse(requested).getAddress());
        }
        if (server != null) {
            o.put(DhcpMessage.OPT_SERVER_ID, DhcpLease.parse(server).getAddress());
        }
        var zero = DhcpLease.parse("0.0.0.0");
        return new DhcpMessage(DhcpMessage.BOOTREQUEST, 7, 0, 0, zero, zero, zero, zero, mac, o);
    }

    @Test
    void discoverFromTheLeasedMacGetsTheOfferWithKubevirtsOptions() throws Exception {
        DhcpMessage offer = DhcpReplies.reply(DhcpCodecTest.discover("0a:58:0a:f4:00:07"), LEASE);
        byte[] wire = DhcpCodec.encode(offer);
        DhcpMessage m = DhcpCodec.decode(wire, wire.length);
        assertEquals(DhcpMessage.BOOTREPLY, m.op());
        assertEquals(DhcpMessage.OFFER, m.messageType());
        assertEquals(0x12345678, m.xid());
        assertEquals("10.244.0.7", m.yiaddr().getHostAddress());
        assertEquals("255.255.255.0", m.address(DhcpMessage.OPT_SUBNET_MASK).getHostAddress());
        assertEquals("10.244.0.1", m.address(DhcpMessage.OPT_ROUTER).getHostAddress());
        assertEquals("10.96.0.10", m.address(DhcpMessage.OPT_DNS).getHostAddress());
        assertEquals("169.254.75.10", m.address(DhcpMessage.OPT_SERVER_ID).getHostAddress());
        assertArrayEquals(new byte[] {-1, -1, -1, -1}, m.options().get(DhcpMessage.OPT_LEASE_TIME), "infinite");
        assertArrayEquals(new byte[] {0x05, (byte) 0xaa}, m.options().get(DhcpMessage.OPT_MTU), "1450");
        assertEquals("testvm", new String(m.options().get(DhcpMessage.OPT_HOSTNAME)));
        byte[] search = m.options().get(DhcpMessage.OPT_DOMAIN_SEARCH);
        assertEquals("\u0007default\u0003svc\u0007cluster\u0005local\u0000\u0003svc\u0007cluster\u0005local\u0000",
                new String(search, java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void anotherMacsDiscoverIsIgnored() {
        assertNull(DhcpReplies.reply(DhcpCodecTest.discover("02:00:00:00:00:99"), LEASE));
    }

    @Test
    void requestOfTheLeaseFromItsMacIsAckedAnythingElseNaked() {
        assertEquals(DhcpMessage.ACK, DhcpReplies.reply(request("0a:58:0a:f4:00:07", "10.244.0.7", "169.254.75.10"), LEASE).messageType());
        assertEquals(DhcpMessage.ACK, DhcpReplies.reply(request("0a:58:0a:f4:00:07", "10.244.0.7", null), LEASE).messageType(),
                "INIT-REBOOT names no server");
        DhcpMessage nak = DhcpReplies.reply(request("0a:58:0a:f4:00:07", "10.244.0.8", null), LEASE);
        assertEquals(DhcpMessage.NAK, nak.messageType());
        assertEquals("0.0.0.0", nak.yiaddr().getHostAddress());
        assertEquals(DhcpMessage.NAK, DhcpReplies.reply(request("02:00:00:00:00:99", "10.244.0.7", null), LEASE).messageType());
        assertEquals(DhcpMessage.NAK, DhcpReplies.reply(request("0a:58:0a:f4:00:07", null, null), LEASE).messageType());
        assertNull(DhcpReplies.reply(request("0a:58:0a:f4:00:07", "10.244.0.7", "10.0.0.1"), LEASE),
                "another server's offer was taken: no answer");
    }

    @Test
    void aBadLeaseIsRefusedWhenMade() {
        assertEquals("'10.244.0.300' is not an IPv4 address", assertThrows(IllegalArgumentException.class,
                () -> new DhcpLease("0a:58:0a:f4:00:07", "10.244.0.300", 24, null, List.of(), List.of(), "h", 1500, "169.254.75.10")).getMessage());
        assertEquals("prefix 33: must be 0-32", assertThrows(IllegalArgumentException.class,
                () -> new DhcpLease("0a:58:0a:f4:00:07", "10.244.0.3", 33, null, List.of(), List.of(), "h", 1500, "169.254.75.10")).getMessage());
        assertEquals("MAC 'zz': expected xx:xx:xx:xx:xx:xx", assertThrows(IllegalArgumentException.class,
                () -> new DhcpLease("zz", "10.244.0.3", 24, null, List.of(), List.of(), "h", 1500, "169.254.75.10")).getMessage());
    }

    @Test
    void resolvConfGivesServersAndTheLastSearchLine() {
        BridgeNetworks.Resolv r = BridgeNetworks.Resolv.parse("""
                # generated
                nameserver 10.96.0.10
                nameserver fd00::10
                search old.example
                search default.svc.cluster.local svc.cluster.local cluster.local
                options ndots:5
                """);
        assertEquals(List.of("10.96.0.10"), r.servers());
        assertEquals(List.of("default.svc.cluster.local", "svc.cluster.local", "cluster.local"), r.search());
        assertEquals(List.of("example.org"), BridgeNetworks.Resolv.parse("domain example.org\n").search());
    }
}
