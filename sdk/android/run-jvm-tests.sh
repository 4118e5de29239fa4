#!/usr/bin/env bash
# Compile the Kotlin SDK's platform-free core (src/main/kotlin/org/imn/sdk, without android/) and
# its tests on a desktop JVM and run them with JUnit 4. Needs kotlinc and the junit4, hamcrest,
# gson and bcprov jars (Debian: apt-get install kotlin junit4 libgoogle-gson-java libbcprov-java).
# Without IMN_TEST_BUNDLE the golden-vector, metadata and sealed-mode tests run and the pipeline
# tests are skipped; tests/sdk/test_android_sdk.py sets everything and checks the photos these
# tests write.
set -euo pipefail
cd "$(dirname "$0")"
JARS=${IMN_JARS:-/usr/share/java}
CP="$JARS/gson.jar:$JARS/bcprov.jar:$JARS/junit4.jar:$JARS/hamcrest-core.jar"
BUILD=${IMN_BUILD:-build/jvm}
rm -rf "$BUILD" && mkdir -p "$BUILD"
kotlinc -nowarn src/main/kotlin/org/imn/sdk/*.kt src/test/kotlin/org/imn/sdk/*.kt -cp "$CP" -d "$BUILD" 2>&1 \
  | grep -v "^OpenJDK 64-Bit Server VM warning" || true
test -f "$BUILD/org/imn/sdk/GoldenTest.class" || { echo "compilation failed" >&2; exit 1; }
export IMN_GOLDEN=${IMN_GOLDEN:-$(cd ../golden && pwd)}
KOTLIN_STDLIB=${KOTLIN_STDLIB:-$JARS/kotlin-stdlib.jar}
exec java -cp "$BUILD:$CP:$KOTLIN_STDLIB" org.junit.runner.JUnitCore \
  org.imn.sdk.GoldenTest org.imn.sdk.MetadataTest org.imn.sdk.SealTest org.imn.sdk.BundleTest org.imn.sdk.PipelineTest
