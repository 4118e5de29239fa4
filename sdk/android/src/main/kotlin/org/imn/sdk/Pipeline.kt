package org.imn.sdk

import com.google.gson.JsonArray
import com.google.gson.JsonObject
import java.io.File

/** A protected photo ready to save: masked `rgb`, the kept `alpha` and the `imn` record. A sealed
 *  photo also carries [recordText], the record's exact text (its ciphertext is bound to it), and
 *  [sealed], the `imSd` chunk: the regions' original pixels, encrypted. */
class ProtectedImage(val rgb: RgbImage, val alpha: ByteArray?, val record: JsonObject, val faces: List<Face>,
                     val skipped: List<String>, val notes: List<String>, val recordText: String? = null,
                     val sealed: ByteArray? = null) {
    val isSealed: Boolean get() = sealed != null

    fun save(file: File, codec: PhotoCodec, overwrite: Boolean = false): File =
        PhotoIO.writePng(file, rgb, alpha, mapOf(Metadata.CHUNK_KEY to (recordText ?: record.toString())), codec, overwrite,
                         chunks = sealed?.let { mapOf(Seal.CHUNK_TYPE to it) } ?: emptyMap())
}

/** The original photo, with notes (revealed on another target or precision, say). */
class RecoveredImage(val rgb: RgbImage, val alpha: ByteArray?, val record: Record, val notes: List<String>) {
    /** The protected photo's own mode: "L" (grayscale, written as such by [save]) or "RGB". */
    val mode: String get() = record.mode

    fun save(file: File, codec: PhotoCodec, overwrite: Boolean = false): File =
        PhotoIO.writePng(file, rgb, alpha, emptyMap(), codec, overwrite, mode)
}

/**
 * protect and recover whole photos on a bundle, step for step the Python SDK's `pipeline.py`
 * (sdk/spec/photo.md): detect → align → Mask face → feathered blend → then, by the caller's
 * explicit choice:
 * - sealed (a key or passphrase, §7): each region's original pixels compressed and encrypted into
 *   the PNG's `imSd` chunk ([Seal]); the pixels show the Mask only;
 * - keyless (the paper's method): each region's original pixels hidden in the blended pixels by
 *   the hiding network, tile by tile at native resolution; anyone with a bundle recovers them.
 * → PNG with the `imn` chunk. recover reads the chunk, checks size and digest, then decrypts and
 * pastes (sealed) or checks the bundle and reveals each tile (keyless; keyed photos of earlier
 * releases, §8: unscrambled with the key).
 */
object Pipeline {
    const val MIN_FACE_PIXELS = 40      // narrower faces are left alone (and reported)
    /** Detection runs on a copy of at most this many pixels (1280 × 960), so its cost is bounded
     *  whatever the photo's shape; a panorama keeps the detail its faces need. */
    const val DETECT_MAX_PIXELS = 1280 * 960
    // Where no face was blended, the masked and the revealed pixel are two noisy readings of the
    // original: recover mixes them with this weight on the masked one (the Python SDK's
    // UNTOUCHED_MASKED_WEIGHT, and its reasons).
    const val UNTOUCHED_MASKED_WEIGHT = 0.8f
    // Each face draws its donor here: photos of one person do not share a Mask.
    private val random = java.security.SecureRandom()
    const val CHOOSE_MODE = "choose how the faces can be recovered: a key or passphrase (secret = ...: sealed, only its " +
        "holder recovers them) or keyless = true (the paper's method: anyone with an IMN bundle, which ships in every " +
        "app, recovers them from the pixels)"

    /** Faces in photo coordinates; detection runs on a copy of at most [DETECT_MAX_PIXELS]. */
    fun findFaces(bundle: Bundle, rgb: RgbImage): List<Face> {
        val scale = Math.min(1.0, Math.sqrt(DETECT_MAX_PIXELS.toDouble() / (rgb.width.toDouble() * rgb.height)))
        val small = if (scale == 1.0) rgb
                    else Resample.boxResize(rgb, Math.rint(rgb.width * scale).toInt(), Math.rint(rgb.height * scale).toInt())
        val found = Detect.detectFaces(small, bundle.detector, Math.max(20.0, MIN_FACE_PIXELS * scale))
        val s = scale.toFloat()
        return found.map { f ->
            Face(DoubleArray(4) { f.box[it] / scale }, f.score, Array(5) { k -> floatArrayOf(f.landmarks[k][0] / s, f.landmarks[k][1] / s) })
        }
    }

    private fun landmarks(face: Face) = Array(5) { doubleArrayOf(face.landmarks[it][0].toDouble(), face.landmarks[it][1].toDouble()) }

    private fun round1(v: Double) = Math.round(v * 10) / 10.0

    /**
     * Put a Mask on every face of `photo` and keep the original faces for whoever may recover
     * them. `masks`: "donors" (Masks v2, the default: a face of nobody from the bundle's bank;
     * `donor` fixes which, else each face draws one at random) or "masknet" (the paper's;
     * `identity`: a preset index, or null for face i gets preset i mod K).
     *
     * How the faces come back is the caller's explicit choice, one of:
     * - `secret` (a 256-bit key, or a passphrase that passes [Seal.checkPassphrase]): **sealed**.
     *   The originals are encrypted (AES-256-GCM) into the PNG and the pixels show only the Mask;
     *   only the secret's holder recovers them, bit-exact (`sealQuality` "lossless") or within
     *   one level per pixel ("compact", about 25% smaller).
     * - `keyless = true`: the paper's method. The originals are hidden in the pixels by the
     *   hiding network, and anyone with an IMN bundle (every app ships one) recovers them.
     *
     * Neither throws [KeyRequired], both [IllegalArgumentException], a weak passphrase
     * [WeakPassphrase], all before any work. Throws [AlreadyProtected] for a photo that carries an
     * `imn` record and [NoFaceFound] when there is nothing to protect. A grayscale photo (`mode`
     * "L") gets a gray Mask and a record saying so.
     */
    fun protect(photo: Photo, bundle: Bundle, identity: Int? = null, secret: Keys.Secret? = null,
                progress: (String) -> Unit = {}, masks: String = "donors", donor: Int? = null,
                keyless: Boolean = false, sealQuality: String = "lossless"): ProtectedImage {
        if (secret != null && keyless) {
            throw IllegalArgumentException("a photo is either sealed (secret = ...) or keyless (keyless = true), not both")
        }
        if (secret == null && !keyless) throw KeyRequired(CHOOSE_MODE)
        val step = Seal.STEPS[sealQuality]
            ?: throw IllegalArgumentException("sealQuality must be one of ${Seal.STEPS.keys.joinToString(", ")}, not $sealQuality")
        secret?.passphrase?.let { Seal.checkPassphrase(it) }  // before any work
        if (Metadata.CHUNK_KEY in photo.text) {
            // Hiding it again would bury the first record under the second: recovering would return
            // the first masked photo with no record, and its real faces would be lost for good.
            throw AlreadyProtected("this photo is already protected by IMN; protecting it again would lose its hidden " +
                                   "faces for good: protect the original photo, or recover this one first")
        }
        bundle.require(masks)
        val rgb = photo.rgb
        val size = bundle.size
        Tiles.snap(doubleArrayOf(0.0, 0.0, 1.0, 1.0), rgb.width, rgb.height, size)  // ImageTooSmall before any work
        if (masks == "donors" && identity != null) {
            throw IllegalArgumentException("identity presets belong to Mask-net (masks = \"masknet\"); donors are chosen with donor =")
        }
        if (donor != null && (masks != "donors" || donor !in bundle.donors!!.indices)) {
            throw IllegalArgumentException(if (masks == "donors") "donor $donor does not exist; the bundle has 0..${bundle.donors!!.size - 1}"
                                           else "donor = chooses a donor of Masks v2 (masks = \"donors\")")
        }
        if (identity != null && identity !in bundle.identities.indices) {
            throw IllegalArgumentException("identity preset $identity does not exist; the bundle has 0..${bundle.identities.size - 1}")
        }
        progress("detect")
        val all = findFaces(bundle, rgb)
        val skipped = all.filter { it.width < MIN_FACE_PIXELS }.map {
            "face at (${Math.round(it.box[0])}, ${Math.round(it.box[1])}) is ${Math.round(it.width)} px wide, below $MIN_FACE_PIXELS px"
        }
        val faces = all.filter { it.width >= MIN_FACE_PIXELS }
        if (faces.isEmpty()) {
            throw NoFaceFound("no face to protect in this photo" + if (skipped.isEmpty()) "" else " (${skipped.joinToString("; ")})")
        }
        val transforms = faces.map { Align.cropTransform(landmarks(it), size) }
        // Sealed regions are only what is encrypted: whole tiles edge to edge suffice there.
        val margin = if (secret != null) 0 else Tiles.MARGIN
        val regions = Tiles.merge(transforms.map { Align.blendBox(it, size) }, rgb.width, rgb.height, size, margin)
        val blended = rgb.copy()
        val faceRecords = JsonArray()
        for ((i, face) in faces.withIndex()) {
            progress("mask face ${i + 1}/${faces.size}")
            val crop = Align.alignedCrop(rgb, transforms[i], size)
            val chosen = if (masks == "donors") donor ?: bundle.chooseDonor(crop, random) else identity ?: i % bundle.identities.size
            var mask = if (masks == "donors") bundle.donorMask(crop, chosen) else bundle.maskFace(crop, bundle.identities[chosen])
            if (photo.mode == "L") {  // a grayscale photo gets a grayscale Mask
                val gray = PhotoIO.toGray(mask)
                mask = RgbImage(mask.width, mask.height, ByteArray(3 * gray.size) { gray[it / 3] })
            }
            val cx = face.landmarks.map { it[0] }.sum() / 5.0
            val cy = face.landmarks.map { it[1] }.sum() / 5.0
            val region = regions.first { it.contains(cx, cy) }
            Align.pasteBack(blended, mask, transforms[i], intArrayOf(region.x0, region.y0, region.x1, region.y1))
            faceRecords.add(JsonObject().apply {
                add("box", JsonArray().apply { face.box.forEach { add(round1(it)) } })
                addProperty("score", Math.round(face.score * 1e4) / 1e4)
                add("landmarks", JsonArray().apply {
                    face.landmarks.forEach { p -> add(JsonArray().apply { add(round1(p[0].toDouble())); add(round1(p[1].toDouble())) }) }
                })
                addProperty(if (masks == "donors") "donor" else "identity", chosen)
            })
        }
        if (secret != null) return seal(photo, blended, regions, faceRecords, masks, secret, step, faces, skipped, progress)
        val out = rgb.copy()
        for ((k, region) in regions.withIndex()) {
            progress("hide region ${k + 1}/${regions.size}")
            for (t in Tiles.tileLayout(region, size, margin)) {
                pasteCore(out, bundle.hide(rgb.crop(t.x, t.y, size, size), blended.crop(t.x, t.y, size, size)), t)
            }
        }
        val record = Metadata.keylessRecord(rgb.width, rgb.height, bundle.describe(), margin, regions, faceRecords, masks,
                                            Metadata.pixelDigest(out, regions), photo.mode)
        return ProtectedImage(out, photo.alpha, record, faces, skipped, photo.notes)
    }

    /** Sealed protect (photo.md §7): the regions' originals packed and encrypted against the
     *  record's exact text; the pixels are `blended` (the photo with each face's Mask blended in,
     *  nothing else). */
    private fun seal(photo: Photo, blended: RgbImage, regions: List<Box>, faceRecords: JsonArray, masks: String,
                     secret: Keys.Secret, step: Int, faces: List<Face>, skipped: List<String>,
                     progress: (String) -> Unit): ProtectedImage {
        progress("seal")
        val inner = JsonObject().apply { add("faces", faceRecords); addProperty("masks", masks) }
        val plaintext = Seal.pack(photo.rgb, regions, inner, step)
        val (entry, keys) = Seal.newEntry(secret, step, plaintext.size.toLong() + Seal.TAG_BYTES)
        val record = Metadata.sealedRecord(blended.width, blended.height, regions, Metadata.photoDigest(blended, photo.alpha), entry, photo.mode)
        val text = record.toString()
        val ciphertext = Seal.encrypt(keys, entry, plaintext, text)
        return ProtectedImage(blended, photo.alpha, record, faces, skipped, photo.notes, text, ciphertext)
    }

    /** Write the core of tile `t` (`image`, the whole tile) into the photo. */
    private fun pasteCore(out: RgbImage, image: RgbImage, t: Tiles.Tile) =
        out.paste(image.crop(t.core.x0 - t.x, t.core.y0 - t.y, t.core.width, t.core.height), t.core.x0, t.core.y0)

    /** Inside `region`, where no face's blend reached, `round(w · masked + (1 − w) · revealed)`
     *  in float32 replaces the revealed pixel. */
    private fun mixUntouched(out: RgbImage, masked: RgbImage, region: Box, toCrops: List<Affine>, size: Int) {
        val support = Align.blendSupport(toCrops, size, region)
        val w = UNTOUCHED_MASKED_WEIGHT
        for (y in 0 until region.height) for (x in 0 until region.width) {
            if (support[y * region.width + x]) continue
            for (c in 0 until 3) {
                val i = ((region.y0 + y) * out.width + region.x0 + x) * 3 + c
                val v = w * (masked.pixels[i].toInt() and 0xFF).toFloat() + (1f - w) * (out.pixels[i].toInt() and 0xFF).toFloat()
                out.pixels[i] = Math.min(255.0, Math.max(0.0, Math.rint(v.toDouble()))).toInt().toByte()
            }
        }
    }

    /**
     * Put the Mask off. Throws [NotProtected] without IMN metadata, [ImageModified] when the
     * pixels changed since protection (`force` tries anyway where the size still fits) or a
     * sealed photo's record or `imSd` chunk was altered or lost, [BundleMismatch] for another
     * checkpoint or tile, and for a sealed or keyed photo [KeyRequired] without `secret` or
     * [WrongKey] when the secret's check value disagrees — all before anything is decrypted or
     * revealed. A sealed photo needs no bundle (`bundle` may be null): its faces are decrypted,
     * not revealed; a keyless or keyed one does ([BundleMismatch] without). A secret given for a
     * keyless photo is refused ([WrongKey]): anyone could have made it.
     */
    fun recover(photo: Photo, bundle: Bundle?, force: Boolean = false, secret: Keys.Secret? = null,
                progress: (String) -> Unit = {}): RecoveredImage {
        if (photo.format.isNotEmpty() && photo.format != "PNG" && Metadata.CHUNK_KEY !in photo.text) {
            throw ImageModified("this is a ${photo.format} file: a protected photo is a PNG, and re-encoding it (as JPEG, say) destroys the hidden face")
        }
        val record = Metadata.parseRecord(photo.text)
        if (!record.isSealed && bundle == null) {
            throw BundleMismatch("this photo is keyless (or keyed by an earlier release): recovering it needs an IMN bundle")
        }
        val notes = if (bundle == null || record.bundle == null) mutableListOf() else bundle.checkCanReveal(record.bundle).toMutableList()
        val rgb = photo.rgb
        if (rgb.width != record.width || rgb.height != record.height) {
            throw ImageModified("the photo is ${rgb.width}x${rgb.height} but was protected at ${record.width}x${record.height}: " +
                                "it was resized or cropped, and the hidden faces cannot be recovered")
        }
        val digest = if (record.isSealed) Metadata.photoDigest(rgb, photo.alpha) else Metadata.pixelDigest(rgb, record.regions)
        if (digest != record.digest && !force) {
            throw ImageModified("the masked pixels changed after protection (re-encoded, filtered or edited), so the recovered " +
                                "faces would be damaged; force = true tries anyway")
        }
        if (record.sealed != null) return unseal(photo, record, record.sealed, secret, progress)
        bundle!!  // checked above: only a sealed photo opens without one
        val photoKey = record.key?.let { Keys.openKeyRecord(it, secret) }
        if (secret != null && record.key == null) {
            // Anyone with a bundle can make a keyless photo: one given where a sealed photo was
            // expected may be a substitute, so it is refused, not recovered with a note.
            throw WrongKey("this photo is keyless, not sealed: the key does not belong to it, and anyone with an IMN " +
                           "bundle could have made it; recover it without a key if you trust where it came from")
        }
        val size = bundle.size
        val out = rgb.copy()
        val toCrops = record.faces.map { Align.cropTransform(it, size) }
        for ((k, region) in record.regions.withIndex()) {
            progress("reveal region ${k + 1}/${record.regions.size}")
            for (t in Tiles.tileLayout(region, size, record.margin)) {
                val (x, y) = t.x to t.y
                val tile = rgb.crop(x, y, size, size)
                val revealed = if (photoKey == null) bundle.reveal(tile)
                               else Keys.keyedReveal(bundle::reveal, tile, photoKey, record.key.scrambles, k, x, y)
                pasteCore(out, revealed, t)
            }
            mixUntouched(out, rgb, region, toCrops, size)
        }
        return RecoveredImage(out, photo.alpha, record, notes)
    }

    /** Sealed recover (photo.md §7.4): the chunk's presence and length, the key's check value,
     *  GCM's tag, then the pixels' sizes, each before the next; then each region pasted. The
     *  recovered record carries the faces the plaintext kept out of the clear. */
    private fun unseal(photo: Photo, record: Record, entry: SealedEntry, secret: Keys.Secret?,
                       progress: (String) -> Unit): RecoveredImage {
        val ciphertext = photo.chunks[Seal.CHUNK_TYPE] ?: throw ImageModified(
            "this sealed photo lost its imSd chunk (an app dropped it when saving): the hidden faces are gone with it")
        if (ciphertext.size.toLong() != entry.bytes) {
            throw ImageModified("this sealed photo's imSd chunk has ${ciphertext.size} bytes, not the ${entry.bytes} it was written with")
        }
        progress("open seal")
        val keys = Seal.openKeys(entry, secret)
        val plaintext = Seal.decrypt(keys, entry, ciphertext, photo.text.getValue(Metadata.CHUNK_KEY))
        val (inner, originals) = Seal.unpack(plaintext, record.regions, entry.step)
        val out = photo.rgb.copy()
        for ((region, pixels) in record.regions.zip(originals)) out.paste(pixels, region.x0, region.y0)
        val faces = inner.get("faces") as? JsonArray ?: JsonArray()
        val json = record.json.deepCopy().apply {
            add("faces", faces)
            add("masks", inner.get("masks") ?: com.google.gson.JsonNull.INSTANCE)
        }
        val recovered = Record(record.width, record.height, null, record.tile, 0, record.regions, Metadata.faceLandmarks(faces),
                               record.digest, null, json, record.mode, record.format, entry)
        return RecoveredImage(out, photo.alpha, recovered, emptyList())
    }
}
