/*
 * h_xlcfg FILE...: read each xl configuration as "xl create" reads it,
 * with xl's own parser (libxlutil, from Xen): the file with
 * xlu_cfg_readfile, each disk spec with xlu_disk_parse, and each vif
 * spec split at commas and read as xl's parse_nic_config does
 * (tools/xl/xl_parse.c; that part is xl's, not libxlutil's).  Prints
 * what it found, a line each, for the test to check:
 *
 *	FILE: name NAME
 *	FILE: kernel PATH
 *	FILE: disk vdev=V access=rw|ro format=F script=S target=T
 *	FILE: vif mac=M bridge=B
 *
 * and exits 1 at the first file or spec xl would refuse, saying why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxlutil.h>

/* The keys parse_nic_config takes (Xen 4.17) other than mac. */
static const char *const nic_keys[] = {
	"type=", "bridge=", "netdev=", "gatewaydev=", "ip=", "script=",
	"backend=", "vifname=", "model=", "rate=", "forwarddev=", "accel=",
	"devid=", "mtu=", NULL
};

/* One vif spec, as xl splits and reads it; 0 if xl takes it. */
static int
vif(const char *file, const char *spec)
{
	char *buf, *p, *end, *save = NULL, bridge[256] = "";
	unsigned int mac[6] = { 0 }, val;
	int i, k, have_mac = 0;

	if ((buf = strdup(spec)) == NULL)
		return -1;
	for (p = strtok_r(buf, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		while (*p == ' ')
			p++;
		if (strncmp(p, "mac=", 4) == 0) {
			/* xl: six strtoul(,,16) in a row, each <= 255. */
			p += 4;
			for (i = 0; i < 6; i++) {
				val = (unsigned int)strtoul(p, &end, 16);
				if (p == end || val > 255) {
					fprintf(stderr, "%s: vif '%s': "
					    "Invalid parameter `mac'\n", file,
					    spec);
					free(buf);
					return -1;
				}
				mac[i] = val;
				p = end + 1;
			}
			have_mac = 1;
			continue;
		}
		if (strncmp(p, "bridge=", 7) == 0)
			snprintf(bridge, sizeof(bridge), "%s", p + 7);
		for (k = 0; nic_keys[k] != NULL; k++)
			if (strncmp(p, nic_keys[k], strlen(nic_keys[k])) == 0)
				break;
		if (nic_keys[k] == NULL && strcmp(p, "trusted") != 0 &&
		    strcmp(p, "untrusted") != 0) {
			fprintf(stderr, "%s: vif '%s': unrecognized argument "
			    "`%s'\n", file, spec, p);
			free(buf);
			return -1;
		}
	}
	free(buf);
	printf("%s: vif mac=", file);
	if (have_mac)
		printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		    mac[2], mac[3], mac[4], mac[5]);
	printf(" bridge=%s\n", bridge);
	return 0;
}

static int
check(const char *file)
{
	XLU_Config *cfg;
	XLU_ConfigList *list;
	libxl_device_disk disk;
	const char *s;
	int i, n, rc = 0;

	if ((cfg = xlu_cfg_init(stderr, file)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", file);
		return -1;
	}
	if (xlu_cfg_readfile(cfg, file) != 0) {
		fprintf(stderr, "%s: xl cannot read this configuration\n",
		    file);
		xlu_cfg_destroy(cfg);
		return -1;
	}
	if (xlu_cfg_get_string(cfg, "name", &s, 1) == 0)
		printf("%s: name %s\n", file, s);
	if (xlu_cfg_get_string(cfg, "kernel", &s, 1) == 0)
		printf("%s: kernel %s\n", file, s);
	if (xlu_cfg_get_list(cfg, "disk", &list, &n, 1) == 0)
		for (i = 0; i < n && rc == 0; i++) {
			const char *spec = xlu_cfg_get_listitem(list, i);

			libxl_device_disk_init(&disk);
			if (spec == NULL ||
			    xlu_disk_parse(cfg, 1, &spec, &disk) != 0) {
				fprintf(stderr, "%s: disk '%s': xl cannot "
				    "parse it\n", file, spec ? spec : "");
				rc = -1;
			} else
				printf("%s: disk vdev=%s access=%s format=%s "
				    "script=%s target=%s\n", file, disk.vdev,
				    disk.readwrite ? "rw" : "ro",
				    libxl_disk_format_to_string(disk.format),
				    disk.script ? disk.script : "",
				    disk.pdev_path ? disk.pdev_path : "");
			libxl_device_disk_dispose(&disk);
		}
	if (rc == 0 && xlu_cfg_get_list(cfg, "vif", &list, &n, 1) == 0)
		for (i = 0; i < n && rc == 0; i++) {
			const char *spec = xlu_cfg_get_listitem(list, i);

			rc = spec == NULL ? -1 : vif(file, spec);
		}
	xlu_cfg_destroy(cfg);
	return rc;
}

int
main(int argc, char *argv[])
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: h_xlcfg file ...\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (check(argv[i]) != 0)
			return 1;
	return 0;
}
