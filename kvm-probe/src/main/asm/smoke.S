# qvirt kvm-probe smoke guests (GNU as, AT&T syntax). Reference source only: the build does not
# assemble this file; the bytes are checked in (SmokeGuests.java) with this listing as comments.
# Regenerate: as --64 -al smoke.S -o smoke.o && objcopy -O binary -j .realmode / -j .longmode ...
#
# Both guests are loaded at 0x7c00 and entered in 16-bit real mode with CS=DS=ES=SS=0, exactly as a
# PC BIOS starts a boot sector, so the same bytes run under KVM (qvirt sets the registers) and under
# QEMU TCG + SeaBIOS (as the boot sector of a raw disk).
# Ports: 0x80 = progress stage (ignored by QEMU's PC, recorded by the probe); 0xf4 = result
# (QEMU's isa-debug-exit: exit status = code*2+1). 0x10 = success; 0x2N = failed check N.

        .section .realmode, "ax"
        .code16
rm_start:
        cli
        xor     %ax, %ax
        mov     %ax, %ds
        movw    $0x1234, 0x600          # write a word to memory ...
        cmpw    $0x1234, 0x600          # ... and read it back
        jne     rm_fail
        mov     $0x10, %al
        out     %al, $0xf4              # success
        hlt
rm_fail:
        mov     $0x21, %al
        out     %al, $0xf4
        hlt

        .section .longmode, "ax"
        .code16
lm_start:
        cli
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $0x7c00, %sp
        ljmp    $0, $(0x7c00 + lm_cs0 - lm_start)   # CS:IP = 0000:7cxx whatever the loader used
lm_cs0:
        mov     $1, %al                 # stage 1: real mode, building page tables
        out     %al, $0x80
        cld
        mov     $0x1000, %di            # PML4 0x1000, PDPT 0x2000, PD 0x3000: zero 3 pages
        xor     %eax, %eax
        mov     $0xc00, %cx
        rep stosl
        movl    $0x2003, 0x1000         # PML4[0] -> PDPT | P | RW
        movl    $0x3003, 0x2000         # PDPT[0] -> PD | P | RW
        movl    $0x83, 0x3000           # PD[0] -> 2 MiB page at 0 | P | RW | PS (identity)
        mov     $2, %al                 # stage 2: CPUID says long mode exists
        out     %al, $0x80
        mov     $0x80000000, %eax
        cpuid
        cmp     $0x80000001, %eax
        jb      lm_fail16
        mov     $0x80000001, %eax
        cpuid
        bt      $29, %edx               # LM
        jnc     lm_fail16
        mov     $3, %al                 # stage 3: GDT, CR3, PAE, EFER.LME, paging
        out     %al, $0x80
        lgdtl   0x7c00 + lm_gdtr - lm_start
        mov     $0x1000, %eax
        mov     %eax, %cr3
        mov     %cr4, %eax
        or      $0x20, %eax             # CR4.PAE
        mov     %eax, %cr4
        mov     $0xc0000080, %ecx       # EFER
        rdmsr
        or      $0x100, %eax            # EFER.LME
        wrmsr
        mov     %cr0, %eax
        or      $0x80000001, %eax       # CR0.PG | CR0.PE
        mov     %eax, %cr0
        ljmpl   $0x08, $(0x7c00 + lm_64 - lm_start)
lm_fail16:
        mov     $0x21, %al
        out     %al, $0xf4
        hlt

        .code64
lm_64:
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $0x7c00, %rsp
        mov     $4, %al                 # stage 4: in 64-bit mode; EFER.LMA must be set
        out     %al, $0x80
        mov     $0xc0000080, %ecx
        rdmsr
        bt      $10, %eax               # EFER.LMA
        mov     $0x22, %bl
        jnc     lm_fail
        mov     $5, %al                 # stage 5: CPUID leaf 0 and 1 (CX16 needed below)
        out     %al, $0x80
        xor     %eax, %eax
        cpuid
        mov     $1, %eax
        cpuid
        bt      $13, %ecx               # CX16
        mov     $0x23, %bl
        jnc     lm_fail
        mov     $6, %al                 # stage 6: RDMSR of IA32_APIC_BASE and IA32_PAT
        out     %al, $0x80
        mov     $0x1b, %ecx
        rdmsr
        mov     $0x277, %ecx
        rdmsr
        mov     $7, %al                 # stage 7: lock cmpxchg16b (as the kernel's percpu/slub)
        out     %al, $0x80
        mov     $0x5000, %rdi           # 16-byte aligned scratch
        movabs  $0x1111111122222222, %rax
        mov     %rax, (%rdi)
        movabs  $0x3333333344444444, %rdx
        mov     %rdx, 8(%rdi)
        movabs  $0x5555555566666666, %rbx
        movabs  $0x7777777788888888, %rcx
        lock cmpxchg16b (%rdi)
        mov     $0x24, %bl
        jne     lm_fail
        movabs  $0x7777777788888888, %rax
        cmp     %rax, 8(%rdi)
        jne     lm_fail
        mov     $8, %al                 # stage 8: rep movsb / repe cmpsb (string ops)
        out     %al, $0x80
        mov     $0x7c00, %rsi
        mov     $0x6000, %rdi
        mov     $256, %ecx
        rep movsb
        mov     $0x7c00, %rsi
        mov     $0x6000, %rdi
        mov     $256, %ecx
        repe cmpsb
        mov     $0x25, %bl
        jne     lm_fail
        mov     $9, %al                 # stage 9: 64-bit store and readback of a known pattern
        out     %al, $0x80
        mov     0x7c00 + lm_pattern - lm_start, %rax
        mov     %rax, 0x8000
        mov     0x8000, %rdx
        movabs  $0x0123456789abcdef, %rax
        cmp     %rax, %rdx
        mov     $0x26, %bl
        jne     lm_fail
        mov     $0x10, %al              # all checks passed
        out     %al, $0xf4
        hlt
lm_fail:
        mov     %bl, %al
        out     %al, $0xf4
        hlt
        .balign 8
lm_pattern:
        .quad   0x0123456789abcdef      # the broken variant changes this byte pattern
lm_gdt:
        .quad   0                       # null
        .quad   0x00af9a000000ffff      # 0x08: 64-bit code, DPL 0
        .quad   0x00cf92000000ffff      # 0x10: flat data
lm_gdtr:
        .word   23
        .long   0x7c00 + lm_gdt - lm_start
