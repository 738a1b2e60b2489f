package thumbnail

// Fit returns the size of a thumbnail of a srcW×srcH image that fits in a
// size×size box and keeps the aspect ratio: the longer side becomes size
// and the shorter one is scaled to match, rounded to the nearest pixel and
// at least 1. Like PIL's Image.thumbnail it never enlarges: an image that
// already fits keeps its size.
//
// Fit is pure arithmetic. If any argument is not positive it returns 0, 0.
func Fit(srcW, srcH, size int) (w, h int) {
	if srcW <= 0 || srcH <= 0 || size <= 0 {
		return 0, 0
	}
	if srcW <= size && srcH <= size {
		return srcW, srcH
	}
	if srcW >= srcH {
		return size, scaleSide(srcH, size, srcW)
	}
	return scaleSide(srcW, size, srcH), size
}

// scaleSide is short×size/long rounded to nearest, at least 1, computed in
// 64 bits so that large images cannot overflow on 32-bit platforms.
func scaleSide(short, size, long int) int {
	v := (int64(short)*int64(size) + int64(long)/2) / int64(long)
	return int(max(v, 1))
}
