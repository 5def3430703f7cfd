package io.qvirt.handler.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The DHCP codec: round trips, and garbage or truncated datagrams refused with a message saying where. */
class DhcpCodecTest {
    static DhcpMessage discover(String mac) {
        Map<Integer, byte[]> o = new LinkedHashMap<>();
        o.put(DhcpMessage.OPT_MESSAGE_TYPE, new byte[] {DhcpMessage.DISCOVER});
        o.put(55, new byte[] {1, 3, 6, 12, 15, 26, 119}); // parameter request list, as udhcpc asks
        return new DhcpMessage(DhcpMessage.BOOTREQUEST, 0x12345678, 3, 0x8000, DhcpLease.parse("0.0.0.0"),
                DhcpLease.parse("0.0.0.0"), DhcpLease.parse("0.0.0.0"), DhcpLease.parse("0.0.0.0"), mac, o);
    }

    @Test
    void aMessageSurvivesTheRoundTrip() throws Exception {
        byte[] b = DhcpCodec.encode(discover("0a:58:0a:f4:00:07"));
        assertTrue(b.length >= 300, "padded to BOOTP's 300 bytes: " + b.length);
        DhcpMessage m = DhcpCodec.decode(b, b.length);
        assertEquals(0x12345678, m.xid());
        assertEquals(3, m.secs());
        assertEquals(0x8000, m.flags());
        assertEquals("0a:58:0a:f4:00:07", m.chaddr());
        assertEquals(DhcpMessage.DISCOVER, m.messageType());
        assertArrayEquals(new byte[] {1, 3, 6, 12, 15, 26, 119}, m.options().get(55));
    }

    @Test
    void aLongOptionIsSplitAndJoinedAgain() throws Exception {
        Map<Integer, byte[]> o = new LinkedHashMap<>(discover("02:00:00:00:00:01").options());
        byte[] big = new byte[600];
        new Random(1).nextBytes(big);
        o.put(DhcpMessage.OPT_DOMAIN_SEARCH, big);
        DhcpMessage d = discover("02:00:00:00:00:01");
        DhcpMessage m = new DhcpMessage(d.op(), d.xid(), d.secs(), d.flags(), d.ciaddr(), d.yiaddr(), d.siaddr(), d.giaddr(),
                d.chaddr(), o);
        byte[] b = DhcpCodec.encode(m);
        assertArrayEquals(big, DhcpCodec.decode(b, b.length).options().get(DhcpMessage.OPT_DOMAIN_SEARCH));
    }

    @Test
    void truncatedAndGarbageDatagramsAreRefusedSayingWhere() {
        byte[] ok = DhcpCodec.encode(discover("02:00:00:00:00:01"));
        assertEquals("truncated: 100 bytes, a DHCP message has at least 240",
                assertThrows(DhcpFormatException.class, () -> DhcpCodec.decode(ok, 100)).getMessage());
        byte[] badOp = ok.clone();
        badOp[0] = 9;
        assertEquals("op 9 at offset 0: neither BOOTREQUEST (1) nor BOOTREPLY (2)",
                assertThrows(DhcpFormatException.class, () -> DhcpCodec.decode(badOp, badOp.length)).getMessage());
        byte[] badHlen = ok.clone();
        badHlen[2] = 16;
        assertEquals("htype 1, hlen 16 at offset 1: only Ethernet (1, 6)",
                assertThrows(DhcpFormatException.class, () -> DhcpCodec.decode(badHlen, badHlen.length)).getMessage());
        byte[] badMagic = ok.clone();
        badMagic[236] = 0;
        assertEquals("magic cookie 0x00825363 at offset 236: expected 0x63825363",
                assertThrows(DhcpFormatException.class, () -> DhcpCodec.decode(badMagic, badMagic.length)).getMessage());
        // The first option (53, length 1) at 240; cut inside the second (55, length 7) at 243.
        assertEquals("option 55 at offset 243: length 7 runs past the end of the 247-byte message",
                assertThrows(DhcpFormatException.class, () -> DhcpCodec.decode(ok, 247)).getMessage());
        assertEquals("option 55 at offset 243: no length byte",
                assertThrows(DhcpFormatException.class, () -> DhcpCodec.decode(ok, 244)).getMessage());
        assertEquals("no end option (255) before the end of the 243-byte message",
                assertThrows(DhcpFormatException.class, () -> DhcpCodec.decode(ok, 243)).getMessage());
        Map<Integer, byte[]> o = new LinkedHashMap<>();
        o.put(DhcpMessage.OPT_MESSAGE_TYPE, new byte[] {1, 2});
        DhcpMessage d = discover("02:00:00:00:00:01");
        byte[] badType = DhcpCodec.encode(new DhcpMessage(d.op(), d.xid(), d.secs(), d.flags(), d.ciaddr(), d.yiaddr(),
                d.siaddr(), d.giaddr(), d.chaddr(), o));
        assertEquals("option 53 (message type): length 2, expected 1",
                assertThrows(DhcpFormatException.class, () -> DhcpCodec.decode(badType, badType.length)).getMessage());
    }

    @Test
    void randomBytesNeverEscapeAsAnythingButAFormatError() {
        Random r = new Random(42);
        byte[] ok = DhcpCodec.encode(discover("02:00:00:00:00:01"));
        for (int i = 0; i < 20000; i++) {
            byte[] b;
            if (i % 2 == 0) {
                b = new byte[r.nextInt(600)];
                r.nextBytes(b);
                if (b.length > 240 && i % 4 == 0) {
                    b[0] = 1;
                    b[1] = 1;
                    b[2] = 6;
                    DhcpCodec.put32(b, 236, DhcpCodec.MAGIC); // past the header checks, into the options
                }
            } else {
                b = Arrays.copyOf(ok, ok.length);
                for (int k = 0; k < 4; k++) {
                    b[240 + r.nextInt(b.length - 240)] = (byte) r.nextInt(256);
                }
            }
            byte[] bb = b;
            try {
                DhcpCodec.decode(bb, r.nextInt(bb.length + 1));
            } catch (DhcpFormatException expected) {
                // fine: a clear refusal
            }
        }
    }
}
