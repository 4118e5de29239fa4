package org.imn.sdk.android

import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import org.imn.sdk.Bundle
import org.imn.sdk.Metadata
import org.imn.sdk.Pipeline
import org.imn.sdk.PhotoIO
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Test
import org.junit.runner.RunWith
import java.io.File

/**
 * On a phone: the same photo cases the desktop JVM suite checks, run by LiteRT and Android's
 * codecs. Push a TFLite bundle and the cases first (README.md, "On a device"); the folder is the
 * instrumentation argument `imnDir`. Not run in this repository's CI (no device there).
 */
@RunWith(AndroidJUnit4::class)
class DeviceTest {
    private val dir = File(InstrumentationRegistry.getArguments().getString("imnDir") ?: "/data/local/tmp/imn")
    private val bundle by lazy { Bundle(File(dir, "bundle"), LiteRtRuntime(), target = "tflite") }

    private fun read(name: String) = PhotoIO.read(File(dir, "cases/$name").readBytes(), BitmapCodec)

    @Test fun recoverEqualsThePythonSdk() {
        val recovered = Pipeline.recover(read("python.imn.png"), bundle)
        assertArrayEquals(read("python.recovered.png").rgb.pixels, recovered.rgb.pixels)
    }

    @Test fun protectFindsTheSameRegions() {
        val mine = Pipeline.protect(read("astronaut.png"), bundle, keyless = true)
        val python = Metadata.parseRecord(read("python.imn.png").text)
        assertEquals(python.regions, Metadata.parseRecord(mapOf("imn" to mine.record.toString())).regions)
        val out = File(dir, "cases/android.imn.png").apply { delete() }
        mine.save(out, BitmapCodec)
        assertEquals(mine.rgb.pixels.toList(), read("android.imn.png").rgb.pixels.toList())
    }
}
