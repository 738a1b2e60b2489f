// Package photo makes the large "camera photo" that the demo's CPU-bound
// experiment turns into thumbnails.
//
// The 2016 deco blog post timed 100 thumbnails of one large JPEG. This
// machine has no photo to hand, so [Generate] paints a deterministic
// landscape (sky and ground gradients, clouds, distant hills, trees,
// rocks, a lake, soft texture and film grain) and [EncodeJPEG] compresses
// it. The detail is there on purpose: a flat image compresses to almost
// nothing and decodes and resamples unrealistically fast, which would make
// the experiment meaningless.
//
// Everything here is serial from the caller's point of view and has no
// package state; the functions are safe to call from many goroutines.
package photo
