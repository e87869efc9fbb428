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
        return Instant.parse(cast(v, String.class, where));
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
    if (raw.isRecord()) {
      return record(cast(v, Map.class, where), raw, where);
    }
    throw new IllegalArgumentException("cannot bind JSON to " + type);
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
