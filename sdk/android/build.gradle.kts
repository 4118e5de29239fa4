// The IMN Android library: the platform-free pipeline (src/main/kotlin/org/imn/sdk) plus LiteRT
// and Bitmap adapters (src/main/kotlin/org/imn/sdk/android). Written for AGP 8 / Kotlin 1.9+;
// not built in this repository's CI, which has no Android SDK (see README.md for what runs where).
plugins {
    id("com.android.library") version "8.5.2"
    id("org.jetbrains.kotlin.android") version "1.9.24"
}

android {
    namespace = "org.imn.sdk"
    compileSdk = 34
    defaultConfig {
        minSdk = 26  // BitmapFactory.Options.outConfig (16-bit detection)
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
    }
    sourceSets["main"].java.srcDirs("src/main/kotlin")
    sourceSets["test"].java.srcDirs("src/test/kotlin")
    sourceSets["androidTest"].java.srcDirs("src/androidTest/kotlin")
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

dependencies {
    implementation("com.google.ai.edge.litert:litert:1.4.0")      // org.tensorflow.lite.Interpreter
    implementation("com.google.code.gson:gson:2.10.1")
    implementation("org.bouncycastle:bcprov-jdk18on:1.78.1")      // HKDF, Argon2id (sealed photos), scrypt (keyed photos of earlier releases)
    implementation("androidx.exifinterface:exifinterface:1.3.7")
    testImplementation("junit:junit:4.13.2")
    androidTestImplementation("androidx.test.ext:junit:1.2.1")
    androidTestImplementation("androidx.test:runner:1.6.2")
}
