package io.qvirt.launcher.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Only the named subcommand is registered for a command line that names one; every one otherwise. */
class LauncherCommandTest {
    @Test
    void theSubcommandIsTheFirstArgumentAfterTheRootsOwnOptions() {
        assertEquals(ValidateCommand.class, LauncherCommand.namedSubcommand(new String[] {"validate", "f.yaml"}));
        assertEquals(RunCommand.class, LauncherCommand.namedSubcommand(new String[] {"--debug", "run", "x"}));
        assertEquals(ExecCommand.class, LauncherCommand.namedSubcommand(new String[] {"--log-format", "json", "exec"}));
        assertEquals(ListCommand.class, LauncherCommand.namedSubcommand(new String[] {"--log-format=json", "list"}));
        assertNull(LauncherCommand.namedSubcommand(new String[] {}));
        assertNull(LauncherCommand.namedSubcommand(new String[] {"--help"}));
        assertNull(LauncherCommand.namedSubcommand(new String[] {"bogus", "run"}));
        assertNull(LauncherCommand.namedSubcommand(new String[] {"--log-format", "run"}), "run is the option's value");
        assertEquals("exec", LauncherCommand.commandWord(new String[] {"--debug", "--log-format", "json", "exec", "f"}));
        assertNull(LauncherCommand.commandWord(new String[] {"--debug"}));
    }

    @Test
    void everySubcommandIsListedByName() {
        for (Class<?> c : LauncherCommand.SUBCOMMANDS) {
            String name = c.getAnnotation(CommandLine.Command.class).name();
            assertEquals(c, LauncherCommand.namedSubcommand(new String[] {name}));
        }
    }

    @Test
    void aNamedSubcommandAloneIsRegisteredAndTheRootsOptionsStillApply() {
        CommandLine one = LauncherCommand.create(sink(), sink(), new String[] {"--log-format", "json", "status", "x"});
        assertEquals(List.of("status"), List.copyOf(one.getSubcommands().keySet()));
        CommandLine all = LauncherCommand.create(sink(), sink(), new String[] {"--help"});
        assertEquals(LauncherCommand.SUBCOMMANDS.size(), all.getSubcommands().size());
        String[] args = {"--debug", "validate", "/nonexistent-qvirt.yaml"};
        StringWriter err = new StringWriter();
        int code = LauncherCommand.create(sink(), new PrintWriter(err, true), args).execute(args);
        assertEquals(ExitCodes.INVALID, code, err.toString());
        assertTrue(err.toString().contains("no such file"), err.toString());
        assertTrue(err.toString().contains("\tat "), "--debug reached the lone subcommand: " + err);
    }

    private static PrintWriter sink() {
        return new PrintWriter(new StringWriter(), true);
    }
}
