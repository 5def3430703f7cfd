package io.qvirt.handler.vmi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** What {@link ProxyMigrationTransport} writes as targetNodeAddress. */
class ProxyMigrationTransportTest {
    @Test
    void theAdvertisedAddress() {
        assertEquals("127.0.2.1", ProxyMigrationTransport.advertisedHost(new InetSocketAddress("127.0.2.1", 0)));
        String wildcard = ProxyMigrationTransport.advertisedHost(new InetSocketAddress("0.0.0.0", 0));
        assertFalse(wildcard.equals("0.0.0.0"), "a wildcard is never advertised");
        if (System.getenv("MY_POD_IP") != null) {
            assertEquals(System.getenv("MY_POD_IP").strip(), wildcard);
        }
    }
}
