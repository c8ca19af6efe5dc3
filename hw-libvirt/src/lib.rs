//! hw-libvirt (being built).
