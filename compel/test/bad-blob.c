/*
 * Objects `compel hgen` must refuse (built twice by the Makefile):
 * -DBAD_ABS: absolute 32-bit addressing (-fno-pic), not relocatable;
 * -DBAD_UNDEF: a call to a function nobody defines.
 */
#ifdef BAD_ABS
int table[4] = { 1, 2, 3, 4 };

int __compel_daemon_entry(int i)
{
	return table[i & 3];
}
#endif

#ifdef BAD_UNDEF
int nowhere(int x);

int __compel_daemon_entry(int i)
{
	return nowhere(i);
}
#endif

int __compel_thread_entry(void)
{
	return 0;
}
