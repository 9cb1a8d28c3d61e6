#!/bin/bash
# Every claim in rtslib-spec/*.spec holds on the real kernel: the module
# loads, its configfs group appears, a WWN of the stated type and a tpgt_1
# can be created under it, and each listed feature has its configfs entries.
# An unknown key, WWN type or feature is a failure.
#
# usage: rtslib-spec.sh [SPEC_DIR]   (default: the repo's rtslib-spec/)
set -u
. "$(dirname "$0")/../lib/lib-lio.sh"

SPEC_DIR=${1:-$(cd "$(dirname "$0")/../../../.." && pwd)/rtslib-spec}

NAA_TARGET=naa.5001405c0ffee001
NAA_INITIATOR=naa.5001405c0ffee0fe
IQN_TARGET=iqn.2003-01.org.vhostio:test
IQN_INITIATOR=iqn.2003-01.org.vhostio:initiator
PORTAL=127.0.0.1:3260

# Set by spec_parse.
features=() wwn_type='' kernel_module='' configfs_group=''

trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

# spec_parse FILE: fill the four keys; complain about anything else.
spec_parse() {
	local file=$1 line key value f n=0 ok=0
	features=() wwn_type='' kernel_module='' configfs_group=''
	local seen_features=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=$(trim "${line%%#*}")
		[ -z "$line" ] && continue
		if [[ $line != *=* ]]; then
			fail "$file:$n: not a 'key = value' line: $line"
			ok=1
			continue
		fi
		key=$(trim "${line%%=*}")
		value=$(trim "${line#*=}")
		case $key in
		features)
			seen_features=1
			IFS=, read -ra list <<<"$value"
			for f in "${list[@]}"; do
				f=$(trim "$f")
				if [ -z "$f" ]; then
					fail "$file:$n: empty feature name"
					ok=1
				else
					features+=("$f")
				fi
			done
			;;
		wwn_type) wwn_type=$value ;;
		kernel_module) kernel_module=$value ;;
		configfs_group) configfs_group=$value ;;
		*)
			fail "$file:$n: unknown key '$key' (this test checks only features, wwn_type, kernel_module, configfs_group)"
			ok=1
			;;
		esac
	done <"$file"
	for key in wwn_type kernel_module configfs_group; do
		if [ -z "${!key}" ]; then
			fail "$file: no $key"
			ok=1
		fi
	done
	[ "$seen_features" = 1 ] || { fail "$file: no features line"; ok=1; }
	return $ok
}

# The configfs entries behind each feature name, probed under TPG $tpg of
# WWN dir $wwn in group dir $grp, with initiator name $ini.
feature_check() {
	local feat=$1 grp=$2 wwn=$3 tpg=$4 ini=$5 acl
	case $feat in
	nexus)
		check "$feat: $tpg/nexus exists" test -f "$tpg/nexus"
		check "$feat: nexus takes $ini" sh -c "echo -n '$ini' >'$tpg/nexus'"
		check "$feat: nexus reads back $ini" grep -qxF "$ini" "$tpg/nexus"
		check "$feat: nexus drops with NULL" sh -c "echo -n NULL >'$tpg/nexus'"
		;;
	tpgts)
		check "$feat: a second TPG $wwn/tpgt_2 can be created" mkdir "$wwn/tpgt_2"
		check "$feat: tpgt_2 has lun/" test -d "$wwn/tpgt_2/lun"
		check "$feat: tpgt_2 removed" rmdir "$wwn/tpgt_2"
		;;
	acls)
		check "$feat: $tpg/acls exists" test -d "$tpg/acls"
		check "$feat: node ACL $ini can be created" mkdir "$tpg/acls/$ini"
		check "$feat: node ACL removed" rmdir "$tpg/acls/$ini"
		;;
	acls_auth | acls_tcq_depth)
		acl=$tpg/acls/$ini
		check "$feat: node ACL $ini can be created" mkdir "$acl"
		if [ "$feat" = acls_auth ]; then
			check "$feat: $acl/auth/userid exists" test -f "$acl/auth/userid"
			check "$feat: $acl/auth/password exists" test -f "$acl/auth/password"
			check "$feat: acl auth userid is writable" sh -c "echo -n vhostio >'$acl/auth/userid'"
		else
			check "$feat: $acl/cmdsn_depth exists" test -f "$acl/cmdsn_depth"
			check "$feat: cmdsn_depth takes 16" sh -c "echo -n 16 >'$acl/cmdsn_depth'"
			check "$feat: cmdsn_depth reads back 16" grep -qx 16 "$acl/cmdsn_depth"
		fi
		check "$feat: node ACL removed" rmdir "$acl"
		;;
	auth)
		check "$feat: $tpg/auth/userid exists" test -f "$tpg/auth/userid"
		check "$feat: $tpg/auth/password exists" test -f "$tpg/auth/password"
		check "$feat: tpg auth userid is writable" sh -c "echo -n vhostio >'$tpg/auth/userid'"
		;;
	nps)
		check "$feat: $tpg/np exists" test -d "$tpg/np"
		check "$feat: portal $PORTAL can be created" mkdir "$tpg/np/$PORTAL"
		check "$feat: portal removed" rmdir "$tpg/np/$PORTAL"
		;;
	discovery_auth)
		check "$feat: $grp/discovery_auth/enforce_discovery_auth exists" \
			test -f "$grp/discovery_auth/enforce_discovery_auth"
		check "$feat: $grp/discovery_auth/userid exists" test -f "$grp/discovery_auth/userid"
		check "$feat: $grp/discovery_auth/password exists" test -f "$grp/discovery_auth/password"
		;;
	*)
		fail "unknown feature '$feat': this test has no configfs mapping for it"
		;;
	esac
}

# Remove whatever a (possibly failed) check left under the WWN, deepest first.
wwn_cleanup() {
	local wwn=$1 d
	[ -d "$wwn" ] || return 0
	for d in "$wwn"/tpgt_*; do
		[ -d "$d" ] || continue
		[ -f "$d/nexus" ] && echo -n NULL >"$d/nexus" 2>/dev/null
		rmdir "$d"/acls/* "$d"/np/* 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
	rmdir "$wwn" 2>/dev/null
}

# spec_check FILE: everything one spec file claims.
spec_check() {
	local file=$1 name grp wwn tpg ini feat
	name=$(basename "$file" .spec)
	say "$name: $file"
	spec_parse "$file" || return 0
	echo "   features=${features[*]} wwn_type=$wwn_type kernel_module=$kernel_module configfs_group=$configfs_group"

	check "$name: modprobe $kernel_module" modprobe "$kernel_module"
	check "$name: module $kernel_module is loaded" test -d "/sys/module/$kernel_module"
	grp=$CFS/$configfs_group
	# As rtslib does: the fabric's group appears when it is created, and
	# target_core_mod accepts only the name a loaded fabric module registered.
	local made_grp=0
	if [ ! -d "$grp" ]; then
		check "$name: configfs group $grp can be created" mkdir "$grp"
		[ -d "$grp" ] && made_grp=1
	fi
	check "$name: configfs group $grp appears" test -d "$grp"
	[ -d "$grp" ] || return 0

	case $wwn_type in
	naa) wwn=$grp/$NAA_TARGET ini=$NAA_INITIATOR ;;
	iqn) wwn=$grp/$IQN_TARGET ini=$IQN_INITIATOR ;;
	*)
		fail "$name: unknown wwn_type '$wwn_type' (this test knows naa and iqn)"
		return 0
		;;
	esac
	tpg=$wwn/tpgt_1
	wwn_cleanup "$wwn"
	check "$name: a WWN of type $wwn_type is accepted (mkdir $wwn)" mkdir "$wwn"
	check "$name: $tpg can be created" mkdir "$tpg"
	if [ -d "$tpg" ]; then
		for feat in "${features[@]}"; do
			feature_check "$feat" "$grp" "$wwn" "$tpg" "$ini"
		done
	else
		fail "$name: no TPG, features not checked"
	fi

	check "$name: $tpg removed" rmdir "$tpg"
	check "$name: $wwn removed" rmdir "$wwn"
	wwn_cleanup "$wwn"
	if [ "$made_grp" = 1 ]; then
		check "$name: configfs group $grp removed" rmdir "$grp"
	fi
}

say "spec files in $SPEC_DIR"
shopt -s nullglob
specs=("$SPEC_DIR"/*.spec)
check "found spec files (${#specs[@]})" test "${#specs[@]}" -gt 0
for f in vhost loopback iscsi; do
	check "$f.spec is there" test -f "$SPEC_DIR/$f.spec"
done
for spec in "${specs[@]}"; do
	spec_check "$spec"
done

# The test itself must reject what it cannot prove: a spec naming a feature
# it has no mapping for, one with an unknown key, and one whose configfs
# group no loaded fabric registers, each fail.
say "self-check: an unknown feature, key or group fails the check"
bogus_dir=$(mktemp -d)
printf 'features = nexus\nwwn_type = naa\nkernel_module = tcm_loop\nconfigfs_group = loopbackx\n' \
	>"$bogus_dir/group.spec"
printf 'features = nexus, warp_drive\nwwn_type = naa\nkernel_module = tcm_loop\nconfigfs_group = loopback\n' \
	>"$bogus_dir/feature.spec"
printf 'features = nexus\nwwn_type = naa\nkernel_module = tcm_loop\nconfigfs_group = loopback\nfabric_colour = blue\n' \
	>"$bogus_dir/key.spec"
for bogus in feature key group; do
	out=$( (failures=0; spec_check "$bogus_dir/$bogus.spec"; exit $((failures != 0))) 2>&1)
	rc=$?
	echo "$out" | sed 's/^/   | /'
	check "spec with an unknown $bogus fails (rc $rc)" test "$rc" -ne 0
	case $bogus in
	group) pattern="FAIL: .*configfs group $CFS/loopbackx can be created" ;;
	*) pattern="FAIL: .*unknown $bogus" ;;
	esac
	check "the unknown $bogus is named in the failure" grep -q "$pattern" <<<"$out"
done
rm -rf "$bogus_dir"
check "loopback WWN cleaned up after the self-check" test ! -e "$CFS/loopback/$NAA_TARGET"

finish
