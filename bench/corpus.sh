# Sourced by the streams benchmarks: the word-count corpus.
#
# make_corpus FILE LINES: LINES lines of 10 words each from a 5,000-word
# vocabulary of syllable words (every 7th capitalized), skewed towards the
# first words (index = 5000 * r^2), some joined by ", ", each line ending
# with "."; srand(1), so the same for the same LINES.
make_corpus() {
    awk -v n="$2" 'BEGIN {
        srand(1);
        split("ka lo mi ne ru sa te vo zi pa re do fu gi ha", s, " ");
        for (i = 0; i < 5000; i++) {
            w = ""; x = i;
            do { w = w s[1 + x % 15]; x = int(x / 15) } while (x > 0);
            v[i] = (i % 7 == 0) ? toupper(substr(w, 1, 1)) substr(w, 2) : w;
        }
        for (l = 0; l < n; l++) {
            line = "";
            for (j = 0; j < 10; j++) {
                r = rand();
                line = line (j ? (r < 0.1 ? ", " : " ") : "") v[int(5000 * r * r)];
            }
            print line ".";
        }
    }' >"$1"
}
