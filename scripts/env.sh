# Sourced by the project's scripts: the JDK 25 every Java part of inferno needs (the machine's default java is older).
if [[ -z ${JAVA_HOME:-} || ! -x ${JAVA_HOME}/bin/java ]] || ! "${JAVA_HOME}/bin/java" -version 2>&1 | grep -q '"25'; then
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/jdk-25*; do
    if [[ -x $candidate/bin/java ]]; then JAVA_HOME=$candidate; break; fi
  done
fi
[[ -n ${JAVA_HOME:-} && -x ${JAVA_HOME}/bin/java ]] || { echo "no JDK 25 found: set JAVA_HOME" >&2; return 1; }
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$HOME/.cargo/bin:$PATH"
