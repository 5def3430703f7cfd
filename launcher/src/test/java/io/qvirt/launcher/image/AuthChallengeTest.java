package io.qvirt.launcher.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuthChallengeTest {
    @Test
    void dockerHubBearer() {
        List<AuthChallenge> cs = AuthChallenge.parse("Bearer realm=\"https://auth.docker.io/token\","
                + "service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"");
        assertEquals(1, cs.size());
        assertEquals("bearer", cs.get(0).scheme());
        assertEquals(Map.of("realm", "https://auth.docker.io/token", "service", "registry.docker.io",
                "scope", "repository:library/busybox:pull"), cs.get(0).params());
    }

    @Test
    void basicAsDistributionSendsIt() {
        List<AuthChallenge> cs = AuthChallenge.parse("Basic realm=\"qvirt\"");
        assertEquals(List.of(new AuthChallenge("basic", Map.of("realm", "qvirt"))), cs);
    }

    @Test
    void severalChallengesTokensEscapesAndSpaces() {
        List<AuthChallenge> cs = AuthChallenge.parse("Basic realm=\"a \\\"b\\\"\", Bearer realm=https://t/x , service = reg");
        assertEquals(2, cs.size());
        assertEquals("a \"b\"", cs.get(0).param("realm"));
        assertEquals("bearer", cs.get(1).scheme());
        assertEquals("https://t/x", cs.get(1).param("realm"));
        assertEquals("reg", cs.get(1).param("service"));
        assertEquals(List.of(new AuthChallenge("negotiate", Map.of())), AuthChallenge.parse("Negotiate"));
        assertEquals(List.of(), AuthChallenge.parse(""));
    }

    @Test
    void malformedIsRefused() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AuthChallenge.parse("Bearer realm=\"open"))
                .getMessage().contains("unterminated"));
        assertThrows(IllegalArgumentException.class, () -> AuthChallenge.parse("=x"));
    }
}
