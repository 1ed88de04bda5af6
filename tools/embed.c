/* Build tool: turns files (migrations, data lists, web assets) into one C source
 * holding them as byte arrays, so the binary needs nothing beside it at run time.
 * Usage: embed FILE... > embedded.c   (called by the Makefile only) */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    printf("#include <stddef.h>\n#include \"embed.h\"\n");
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { perror(argv[i]); return 1; }
        printf("static const unsigned char f%d[] = {", i);
        int c; size_t n = 0;
        while ((c = fgetc(f)) != EOF) printf("%s%d,", (n++ % 24) ? "" : "\n", c);
        printf("0};\n");
        fclose(f);
    }
    printf("const struct embedded_file embedded_files[] = {\n");
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        fseek(f, 0, SEEK_END);
        printf("  {\"%s\", f%d, %ld},\n", argv[i], i, ftell(f));
        fclose(f);
    }
    printf("  {NULL, NULL, 0}\n};\n");
    return 0;
}
