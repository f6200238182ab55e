"""The libvirt launcher: real guests as MPI hosts (`supervm-launch`)."""
