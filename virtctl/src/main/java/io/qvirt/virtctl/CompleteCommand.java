package io.qvirt.virtctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Parameters;

/**
 * {@code virtctl __complete -- WORD...} (hidden): what the completion script ({@link CompletionCommand}) offers for
 * the last word of a command line when that word is a VM or VMI name: the names the API server lists in the
 * namespace the command line names ({@code -n}, else the context's), with its {@code --kubeconfig} and
 * {@code --context}, that start with the word. One per line; nothing when the word is no name (a verb, a flag, a
 * flag's value, a second name), so the script falls back to picocli's completion of verbs and flags.
 *
 * <p>Precondition: the words are those after the program name, up to and including the word being completed
 * (possibly empty), as bash hands them over ({@code --namespace=x} arrives as three words: name, {@code =}, value).
 * The API server gets {@value #TIMEOUT_SECONDS} s per list: a shell waits for this.
 */
@Command(name = CompleteCommand.NAME, hidden = true, description = "Completion candidates (used by the completion script).")
final class CompleteCommand extends BaseCommand {
    static final String NAME = "__complete";
    static final int TIMEOUT_SECONDS = 2;

    /** Which names a word position takes. */
    enum Kind { NONE, VM, VMI, TYPE, TYPE_SLASH_NAME }

    @Parameters(paramLabel = "WORD", arity = "0..*", description = "the command line's words after the program name")
    List<String> words = new ArrayList<>();

    /** A command line's words, read as virtctl reads them: the global options, the verb, its positionals. */
    record Line(String kubeconfig, String context, String namespace, String verb, List<String> positionals, String current,
                boolean currentIsOptionValue) {
    }

    @Override
    int doCall() throws VirtctlException {
        Line line = parse(joinEquals(words), spec.root().commandLine().getSubcommands());
        Kind kind = line.currentIsOptionValue() ? Kind.NONE : kind(line.verb(), line.positionals());
        if (kind == Kind.NONE) {
            return ExitCodes.OK;
        }
        TreeSet<String> out = new TreeSet<>();
        String cur = line.current();
        if (kind == Kind.TYPE) {
            for (String t : List.of("vm", "vmi")) {
                if (t.startsWith(cur)) {
                    out.add(t);
                }
            }
        } else {
            try (Cluster c = Cluster.connect(line.kubeconfig(), line.context(), line.namespace(),
                    Duration.ofSeconds(TIMEOUT_SECONDS), io().env())) {
                String ns = c.namespace();
                if (kind == Kind.VM || kind == Kind.VMI) {
                    boolean vm = kind == Kind.VM;
                    if (line.positionals().size() == 1) { // pause|unpause|expose TYPE NAME
                        try {
                            vm = Resources.isVm(line.positionals().get(0), line.verb());
                        } catch (VirtctlException.Usage e) {
                            return ExitCodes.OK; // no such type: nothing to offer
                        }
                    }
                    names(c, ns, vm, "", cur, out);
                } else { // port-forward / ssh: [USER@]TYPE/NAME
                    int at = line.verb().equals("ssh") ? cur.indexOf('@') + 1 : 0;
                    String user = cur.substring(0, at);
                    String rest = cur.substring(at);
                    int slash = rest.indexOf('/');
                    if (slash < 0) {
                        names(c, ns, true, user + "vm/", cur, out);
                        names(c, ns, false, user + "vmi/", cur, out);
                    } else {
                        String type = rest.substring(0, slash);
                        boolean vm;
                        try {
                            vm = Resources.isVm(type, line.verb());
                        } catch (VirtctlException.Usage e) {
                            return ExitCodes.OK; // no such type: nothing to offer
                        }
                        names(c, ns, vm, user + type + "/", cur, out);
                    }
                }
            }
        }
        out.forEach(out()::println);
        out().flush();
        return ExitCodes.OK;
    }

    /** Adds {@code prefix + name} for each VM (or VMI) of {@code ns} that starts with {@code current}. */
    private static void names(Cluster c, String ns, boolean vm, String prefix, String current, TreeSet<String> out)
            throws VirtctlException {
        String path = "/apis/kubevirt.io/v1/namespaces/" + ns + "/" + (vm ? Resources.VMS : Resources.VMIS);
        for (JsonNode item : c.get(path, vm ? Resources.VM : Resources.VMI, null).path("items")) {
            String candidate = prefix + item.path("metadata").path("name").asText();
            if (candidate.startsWith(current)) {
                out.add(candidate);
            }
        }
    }

    /** Which names the next positional of {@code verb} takes, given those already typed. */
    static Kind kind(String verb, List<String> positionals) {
        if (verb == null) {
            return Kind.NONE;
        }
        int i = positionals.size();
        return switch (verb) {
            case "start", "stop", "restart", "migrate", "migrate-cancel" -> i == 0 ? Kind.VM : Kind.NONE;
            case "console", "reset", "guestosinfo" -> i == 0 ? Kind.VMI : Kind.NONE;
            case "pause", "unpause", "expose" -> i == 0 ? Kind.TYPE : i == 1 ? Kind.VM : Kind.NONE;
            case "port-forward", "ssh" -> i == 0 ? Kind.TYPE_SLASH_NAME : Kind.NONE;
            default -> Kind.NONE;
        };
    }

    /** bash splits {@code --namespace=x} at {@code =}: the three words back into one. */
    static List<String> joinEquals(List<String> words) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            if (w.equals("=") && !out.isEmpty() && out.get(out.size() - 1).startsWith("-")) {
                String joined = out.remove(out.size() - 1) + "=" + (i + 1 < words.size() ? words.get(++i) : "");
                out.add(joined);
            } else {
                out.add(w);
            }
        }
        return out;
    }

    /**
     * Reads the words as virtctl's parser would: global options anywhere, the first other word the verb, the verb's
     * options (those of {@code verbs}' model that take a value skip the next word) and its positionals.
     */
    static Line parse(List<String> words, Map<String, CommandLine> verbs) {
        String kubeconfig = null;
        String context = null;
        String namespace = null;
        String verb = null;
        List<String> positionals = new ArrayList<>();
        String current = words.isEmpty() ? "" : words.get(words.size() - 1);
        boolean valueNext = false;
        boolean endOfOptions = false;
        String pendingGlobal = null;
        for (int i = 0; i < words.size() - 1; i++) {
            String w = words.get(i);
            if (pendingGlobal != null) {
                switch (pendingGlobal) {
                    case "--kubeconfig" -> kubeconfig = w;
                    case "--context" -> context = w;
                    case "-n", "--namespace" -> namespace = w;
                    default -> { }
                }
                pendingGlobal = null;
                continue;
            }
            if (valueNext) {
                valueNext = false;
                continue;
            }
            if (!endOfOptions && w.equals("--")) {
                endOfOptions = true;
                continue;
            }
            if (!endOfOptions && w.startsWith("-") && w.length() > 1) {
                int eq = w.indexOf('=');
                String opt = eq < 0 ? w : w.substring(0, eq);
                if (VirtctlCommand.VALUE_OPTIONS.contains(opt)) {
                    if (eq < 0) {
                        pendingGlobal = opt;
                    } else {
                        String v = w.substring(eq + 1);
                        switch (opt) {
                            case "--kubeconfig" -> kubeconfig = v;
                            case "--context" -> context = v;
                            case "-n", "--namespace" -> namespace = v;
                            default -> { }
                        }
                    }
                } else if (eq < 0 && verb != null && verbs.containsKey(verb)) {
                    OptionSpec o = verbs.get(verb).getCommandSpec().findOption(opt);
                    valueNext = o != null && o.arity().min() > 0;
                }
                continue;
            }
            if (verb == null) {
                verb = w;
            } else {
                positionals.add(w);
            }
        }
        return new Line(kubeconfig, context, namespace, verb, List.copyOf(positionals), current,
                pendingGlobal != null || valueNext || (!endOfOptions && current.startsWith("-")));
    }
}
