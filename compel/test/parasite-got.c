/*
 * Built with -fPIC and default visibility, so that parasite.c reaches
 * these through the GOT: exercises the GOT slots `compel hgen` makes.
 */
int got_probe_value __attribute__((visibility("default"))) = 0x5eed;

int got_probe(int x) __attribute__((visibility("default")));
int got_probe(int x)
{
	return x + got_probe_value;
}
