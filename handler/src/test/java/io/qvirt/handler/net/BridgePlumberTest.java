package io.qvirt.handler.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** BridgePlumber's reading of {@code ip -j} output, and its undo when a step fails (FAKE ip: recorded commands). */
class BridgePlumberTest {
    static final String ETH0 = """
            [{"ifindex":2,"link_index":5,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,
              "qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether",
              "address":"0a:58:0a:f4:00:07","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,
              "addr_info":[{"family":"inet","local":"10.244.0.7","prefixlen":24,"broadcast":"10.244.0.255","scope":"global",
                            "label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295},
                           {"family":"inet6","local":"fe80::858:aff:fef4:7","prefixlen":64,"scope":"link"}]}]""";
    static final String LINKS = """
            [{"ifindex":1,"ifname":"lo","mtu":65536},{"ifindex":2,"ifname":"eth0","mtu":1450}]""";
    static final String ROUTE = """
            [{"dst":"default","gateway":"10.244.0.1","dev":"eth0","flags":[]}]""";

    @Test
    void readsEth0AndTheGateway() throws Exception {
        assertEquals(new BridgePlumber.PodInterface("eth0", "0a:58:0a:f4:00:07", 1450, "10.244.0.7", 24),
                BridgePlumber.podInterface(ETH0));
        assertEquals("10.244.0.1", BridgePlumber.gateway(ROUTE));
        assertNull(BridgePlumber.gateway(""), "no default route");
        assertEquals(List.of("lo", "eth0"), BridgePlumber.linkNames(LINKS));
    }

    @Test
    void refusesWhatItCannotBridge() {
        String v6only = ETH0.replace("\"family\":\"inet\",", "\"family\":\"inet6\",");
        assertEquals("eth0 has no IPv4 address: bridge hands the pod's IPv4 address to the guest (IPv6-only pod "
                + "networks are not supported)", assertThrows(IOException.class, () -> BridgePlumber.podInterface(v6only)).getMessage());
        assertTrue(assertThrows(IOException.class, () -> BridgePlumber.podInterface("{oops")).getMessage()
                .startsWith("ip -j address show: not JSON"));
        assertEquals("ip -j address show: expected a JSON array, got OBJECT",
                assertThrows(IOException.class, () -> BridgePlumber.podInterface("{}")).getMessage());
        assertTrue(assertThrows(IOException.class, () -> BridgePlumber.podInterface(ETH0.replace("0a:58:0a:f4:00:07", "")))
                .getMessage().startsWith("ip -j address show: interface without name, Ethernet MAC or MTU"));
    }

    @Test
    void theStepsAndTheUndoWhenOneFails() {
        List<String> ran = new ArrayList<>();
        BridgePlumber p = new BridgePlumber(argv -> {
            String cmd = String.join(" ", argv.subList(4, argv.size()));
            assertEquals(List.of("nsenter", "-t", "42", "-n"), argv.subList(0, 4));
            ran.add(cmd);
            if (cmd.equals("ip -j link show")) {
                return LINKS;
            }
            if (cmd.startsWith("ip -j address show")) {
                return ETH0;
            }
            if (cmd.startsWith("ip -j -4 route")) {
                return ROUTE;
            }
            if (cmd.startsWith("ip address add 169.254.75.10/32")) {
                throw new IOException("FAKE: RTNETLINK answers: File exists");
            }
            return "";
        });
        IOException e = assertThrows(IOException.class, () -> p.plumb(42, "eth0", 107));
        assertEquals("FAKE: RTNETLINK answers: File exists", e.getMessage());
        List<String> steps = ran.subList(3, ran.size());
        assertEquals("ip link add k6t-eth0 type bridge", steps.get(0));
        assertEquals("ip link set dev eth0 down", steps.get(1));
        assertTrue(steps.get(2).matches("ip link set dev eth0 address [0-9a-f][26ae](:[0-9a-f]{2}){5}"), steps.get(2));
        assertEquals(List.of("ip link set dev eth0 master k6t-eth0", "ip tuntap add dev tap0 mode tap user 107",
                "ip link set dev tap0 mtu 1450 master k6t-eth0", "ip address del 10.244.0.7/24 dev eth0",
                "ip address add 169.254.75.10/32 dev k6t-eth0",
                // the undo, in reverse
                "ip address add 10.244.0.7/24 dev eth0", "ip link del tap0", "ip link set dev eth0 nomaster",
                "ip link set dev eth0 address 0a:58:0a:f4:00:07", "ip link set dev eth0 up",
                "ip route replace default via 10.244.0.1 dev eth0", "ip link del k6t-eth0"), steps.subList(3, steps.size()));
    }

    @Test
    void aNamespaceAlreadyPlumbedIsRefusedUntouched() {
        List<String> ran = new ArrayList<>();
        BridgePlumber p = new BridgePlumber(argv -> {
            ran.add(String.join(" ", argv.subList(4, argv.size())));
            return LINKS.replace("\"lo\"", "\"k6t-eth0\"");
        });
        assertTrue(assertThrows(IOException.class, () -> p.plumb(42, "eth0", 0)).getMessage()
                .startsWith("the pod's network namespace already has k6t-eth0"));
        assertEquals(List.of("ip -j link show"), ran);
    }

    @Test
    void randomMacsAreUnicastAndLocallyAdministered() {
        for (int i = 0; i < 100; i++) {
            int first = Integer.parseInt(BridgePlumber.randomMac().substring(0, 2), 16);
            assertEquals(2, first & 3);
        }
    }
}
