package org.imn.sdk

import java.io.File

/** One loaded graph: inputs and outputs in the manifest's order (sdk/spec/bundle.md). */
interface Graph {
    fun run(inputs: List<Tensor>): List<Tensor>
}

/** Opens a bundle's graph files: LiteRT on Android (`android/LiteRtRuntime.kt`), Core ML on iOS;
 *  tests plug in any runtime that executes the same files. */
interface GraphRuntime {
    /** `file` with the manifest's input and output names, in order. */
    fun open(file: File, inputs: List<String>, outputs: List<String>): Graph
}
