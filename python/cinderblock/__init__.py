# SPDX-License-Identifier: Apache-2.0
"""cinderblock: chunked, incremental backups of block volumes in OpenStack Cinder's format.

`cinderblock.cinder` holds the drivers for cinder-backup; `cinderblock._lib` the bindings
to libcinderblock they use.
"""
