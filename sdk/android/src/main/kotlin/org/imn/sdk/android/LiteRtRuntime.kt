package org.imn.sdk.android

import org.imn.sdk.Graph
import org.imn.sdk.GraphRuntime
import org.imn.sdk.Tensor
import org.tensorflow.lite.Interpreter
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * The bundle's `.tflite` graphs on LiteRT (Android). Every graph is called through its
 * `serving_default` signature with the manifest's input and output names; all shapes are static
 * (the hiding graphs' tiles, PNet's 128-px window, R/ONet's single box), so nothing is resized.
 *
 * Not compiled in this repository's CI (no Android SDK there): the platform-free pipeline it
 * plugs into is tested on a desktop JVM against the same .tflite files run by LiteRT in Python
 * (sdk/android/README.md).
 */
class LiteRtRuntime(private val threads: Int = 2) : GraphRuntime {
    override fun open(file: File, inputs: List<String>, outputs: List<String>): Graph {
        require(file.name.endsWith(".tflite")) { "$file: LiteRT runs .tflite graphs; open the bundle with target = \"tflite\"" }
        val interpreter = Interpreter(file, Interpreter.Options().setNumThreads(threads))
        return object : Graph {
            override fun run(inputs2: List<Tensor>): List<Tensor> = synchronized(interpreter) {
                val feeds = HashMap<String, Any>()
                for ((name, tensor) in inputs.zip(inputs2)) {
                    val buffer = ByteBuffer.allocateDirect(4 * tensor.data.size).order(ByteOrder.nativeOrder())
                    buffer.asFloatBuffer().put(tensor.data)
                    feeds[name] = buffer
                }
                val shapes = outputs.map { interpreter.getOutputTensorFromSignature(it, SIGNATURE).shape() }
                val results = HashMap<String, Any>()
                for ((name, shape) in outputs.zip(shapes)) {
                    results[name] = ByteBuffer.allocateDirect(4 * shape.fold(1) { a, b -> a * b }).order(ByteOrder.nativeOrder())
                }
                interpreter.runSignature(feeds, results, SIGNATURE)
                outputs.zip(shapes).map { (name, shape) ->
                    val buffer = results.getValue(name) as ByteBuffer
                    buffer.rewind()
                    val data = FloatArray(buffer.capacity() / 4)
                    buffer.asFloatBuffer().get(data)
                    Tensor(shape, data)
                }
            }
        }
    }

    companion object {
        const val SIGNATURE = "serving_default"
    }
}
