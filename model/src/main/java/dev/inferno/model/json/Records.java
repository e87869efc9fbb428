package dev.inferno.model.json;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Binds the API's records to and from {@link Json}'s trees with JDK reflection only, the way the
 * daemon's Jackson mapper shapes them: record components in declaration order with nulls written,
 * {@link Instant} as ISO-8601, enums lowercase. Reading is tolerant: unknown keys are skipped (a
 * newer daemon may add fields), absent keys are null. One generic binder instead of a decoder per
 * record, so a field added to a model record reaches the CLI without another edit.
 */
final class Records {
  private Records() {}

  /** A record's components and canonical constructor, looked up once per class. */
  private record Shape(RecordComponent[] components, Constructor<?> constructor) {}

  private static final ClassValue<Shape> SHAPES =
      new ClassValue<>() {
        @Override
        protected Shape computeValue(Class<?> type) {
          RecordComponent[] cs = type.getRecordComponents();
          Class<?>[] types = new Class<?>[cs.length];
          for (int i = 0; i < cs.length; i++) {
            types[i] = cs[i].getType();
          }
          try {
            Constructor<?> c = type.getDeclaredConstructor(types);
            c.setAccessible(true);
            for (RecordComponent rc : cs) {
              rc.getAccessor().setAccessible(true);
            }
            return new Shape(cs, c);
          } catch (NoSuchMethodException e) {
            throw new IllegalStateException(
                "a record without its canonical constructor: " + type, e);
          }
        }
      };

  /** The tree value (from {@link Json#parse}) as the given type. */
  static Object bind(Object v, Type type, String where) {
    Class<?> raw =
        type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
    if (v == null) {
      if (raw.isPrimitive()) {
        throw mismatch(where, "a " + raw, null);
      }
      return null;
    }
    if (raw == Object.class) {
      return v;
    }
    if (raw == String.class) {
      return cast(v, String.class, where);
    }
    if (raw == boolean.class || raw == Boolean.class) {
      return cast(v, Boolean.class, where);
    }
    if (raw == long.class || raw == Long.class) {
      return cast(v, Long.class, where);
    }
    if (raw == int.class || raw == Integer.class) {
      long l = cast(v, Long.class, where);
      if (l != (int) l) {
        throw mismatch(where, "a 32-bit integer", v);
      }
      return (int) l;
    }
    if (raw == double.class || raw == Double.class) {
      return cast(v, Number.class, where).doubleValue();
    }
    if (raw == Instant.class) {
      try {
        return instant(cast(v, String.class, where));
      } catch (DateTimeParseException e) {
        throw mismatch(where, "an ISO-8601 instant", v);
      }
    }
    if (raw.isEnum()) {
      String s = cast(v, String.class, where).toUpperCase(Locale.ROOT);
      for (Object c : raw.getEnumConstants()) {
        if (((Enum<?>) c).name().equals(s)) {
          return c;
        }
      }
      throw mismatch(where, "one of " + List.of(raw.getEnumConstants()), v);
    }
    if (raw == List.class && type instanceof ParameterizedType p) {
      List<?> in = cast(v, List.class, where);
      List<Object> out = new ArrayList<>(in.size());
      for (int i = 0; i < in.size(); i++) {
        out.add(bind(in.get(i), p.getActualTypeArguments()[0], where + "[" + i + "]"));
      }
      return out;
    }
    if (raw == Map.class && type instanceof ParameterizedType p) {
      // string keys (JSON's); kept in the order they came
      Map<?, ?> in = cast(v, Map.class, where);
      Map<String, Object> out = new java.util.LinkedHashMap<>();
      for (var e : in.entrySet()) {
        String k = String.valueOf(e.getKey());
        out.put(k, bind(e.getValue(), p.getActualTypeArguments()[1], where + "." + k));
      }
      return out;
    }
    if (raw.isRecord()) {
      return record(cast(v, Map.class, where), raw, where);
    }
    throw new IllegalArgumentException("cannot bind JSON to " + type);
  }

  /**
   * An instant as the daemon writes them (Instant.toString, UTC: 2026-11-28T19:00:01.5Z), read
   * without java.time's formatters, whose first use costs a CLI command more than the rest of its
   * decoding; every other form (offsets, years past 9999, leap seconds) goes to Instant.parse.
   */
  static Instant instant(String s) {
    int n = s.length();
    if (n >= 20
        && n <= 30
        && s.charAt(4) == '-'
        && s.charAt(7) == '-'
        && s.charAt(10) == 'T'
        && s.charAt(13) == ':'
        && s.charAt(16) == ':'
        && s.charAt(n - 1) == 'Z'
        && (n == 20 || (n >= 22 && s.charAt(19) == '.'))) {
      int y = digits(s, 0, 4);
      int mo = digits(s, 5, 7);
      int d = digits(s, 8, 10);
      int h = digits(s, 11, 13);
      int mi = digits(s, 14, 16);
      int sec = digits(s, 17, 19);
      int fraction = n == 20 ? 0 : digits(s, 20, n - 1);
      if (y >= 1
          && mo >= 1
          && mo <= 12
          && d >= 1
          && d <= daysInMonth(y, mo)
          && h >= 0
          && h < 24
          && mi >= 0
          && mi < 60
          && sec >= 0
          && sec < 60
          && fraction >= 0) {
        int nanos = fraction;
        for (int i = n - 21; i < 9 && n > 20; i++) {
          nanos *= 10;
        }
        return Instant.ofEpochSecond(epochDay(y, mo, d) * 86400L + h * 3600 + mi * 60 + sec, nanos);
      }
    }
    return Instant.parse(s);
  }

  /** The decimal number in s[from, to), or -1 if that is not all digits. */
  private static int digits(String s, int from, int to) {
    int v = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  private static int daysInMonth(int y, int mo) {
    boolean leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    return switch (mo) {
      case 2 -> leap ? 29 : 28;
      case 4, 6, 9, 11 -> 30;
      default -> 31;
    };
  }

  /** Days since 1970-01-01 of a proleptic Gregorian date, year >= 1 (Hinnant's days_from_civil). */
  private static long epochDay(int y, int mo, int d) {
    long yy = mo <= 2 ? y - 1 : y;
    long era = yy / 400;
    long yoe = yy - era * 400;
    long doy = (153L * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
  }

  private static Object record(Map<?, ?> m, Class<?> type, String where) {
    Shape s = SHAPES.get(type);
    Object[] args = new Object[s.components().length];
    for (int i = 0; i < args.length; i++) {
      RecordComponent c = s.components()[i];
      args[i] = bind(m.get(c.getName()), c.getGenericType(), where + "." + c.getName());
    }
    try {
      return s.constructor().newInstance(args);
    } catch (InvocationTargetException e) {
      throw new JsonException(where + ": " + e.getCause().getMessage());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The record type's components in declaration order. */
  static RecordComponent[] components(Class<?> type) {
    return SHAPES.get(type).components();
  }

  /** One component's value. */
  static Object value(RecordComponent c, Record r) {
    try {
      return c.getAccessor().invoke(r);
    } catch (InvocationTargetException e) {
      throw new IllegalStateException(e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  private static <T> T cast(Object v, Class<T> type, String where) {
    if (!type.isInstance(v)) {
      throw mismatch(where, type.getSimpleName().toLowerCase(Locale.ROOT), v);
    }
    return type.cast(v);
  }

  private static JsonException mismatch(String where, String expected, Object got) {
    return new JsonException(
        where + ": expected " + expected + ", got " + (got == null ? "null" : Json.write(got)));
  }
}
