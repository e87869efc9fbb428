package dev.inferno.daemon.vm;

import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.store.VmStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns what a user typed into a VM: a full id, a name, or an unambiguous id prefix, in that order
 * (so a name that happens to be hex still wins over a prefix). Unknown refs get close matches.
 */
public final class Resolver {
  private final VmStore store;

  public Resolver(VmStore store) {
    this.store = store;
  }

  public VmRecord resolve(String ref) {
    if (ref == null || ref.isBlank()) {
      throw ApiException.badRequest("empty VM name or id");
    }
    Optional<VmRecord> r = store.get(ref);
    if (r.isPresent()) {
      return r.get();
    }
    r = store.byName(ref);
    if (r.isPresent()) {
      return r.get();
    }
    if (VmIds.isHex(ref)) {
      List<VmRecord> matches = store.byIdPrefix(ref);
      if (matches.size() == 1) {
        return matches.getFirst();
      }
      if (matches.size() > 1) {
        throw ApiException.badRequest(
            "ambiguous VM id prefix "
                + ref
                + ": matches "
                + String.join(", ", matches.stream().map(v -> VmIds.shortId(v.id())).toList())
                + "; type more of the id");
      }
    }
    List<String> close = suggestions(ref, store.all());
    throw ApiException.notFound(
        "no such VM: "
            + ref
            + (close.isEmpty() ? "" : " (did you mean " + String.join(", ", close) + "?)"));
  }

  /** Names (and short ids) within two edits of ref, or that contain it; at most three. */
  static List<String> suggestions(String ref, List<VmRecord> all) {
    List<String> out = new ArrayList<>();
    for (VmRecord v : all) {
      String shortId = VmIds.shortId(v.id());
      if (close(ref, v.name())) {
        out.add(v.name());
      } else if (close(ref, shortId)) {
        out.add(shortId);
      }
      if (out.size() == 3) {
        break;
      }
    }
    return out;
  }

  private static boolean close(String ref, String candidate) {
    if (ref.length() >= 3 && candidate.contains(ref)) {
      return true;
    }
    return Math.abs(ref.length() - candidate.length()) <= 2 && distance(ref, candidate) <= 2;
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
