#!/bin/sh
# Run by acpid on the ACPI power button.
echo "QVIRT-GUEST-POWEROFF" > /dev/console
sync
poweroff -f
