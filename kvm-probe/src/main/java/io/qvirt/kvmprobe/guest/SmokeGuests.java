package io.qvirt.kvmprobe.guest;

import java.util.HexFormat;
import java.util.List;

/**
 * The smoke guests' machine code, assembled once from {@code src/main/asm/smoke.S} (GNU as) and checked
 * in as hex with the assembler listing as comments ({@code src/main/asm/listing2java.py} regenerates
 * these lines). Nothing is assembled at build time.
 *
 * <p>Both guests are loaded at {@link #LOAD_ADDRESS} and start in 16-bit real mode with CS=DS=ES=SS=0,
 * as a PC BIOS starts a boot sector. So the same bytes run under the probe's raw KVM vCPU and, wrapped
 * by {@link #bootSector(byte[])} into a raw disk image, under {@code qemu-system-x86_64 -accel tcg}
 * with SeaBIOS and {@code -device isa-debug-exit,iobase=0xf4,iosize=0x04}, which exits QEMU with
 * status {@code code * 2 + 1} (see {@link #qemuExitStatus(int)}).
 *
 * <ul>
 *   <li>Port {@link #STAGE_PORT} (0x80, a no-op on a PC): the stage reached, see {@link #STAGES}.</li>
 *   <li>Port {@link #RESULT_PORT} (0xf4): {@link #SUCCESS} or a failure code {@code 0x21..0x26}.</li>
 * </ul>
 */
public final class SmokeGuests {
    private SmokeGuests() {
    }

    /** Guest-physical address both guests are loaded at and start from (CS=0, IP=0x7c00). */
    public static final int LOAD_ADDRESS = 0x7c00;
    /** I/O port the guests write their stage number to. */
    public static final int STAGE_PORT = 0x80;
    /** I/O port the guests write their result code to (QEMU's isa-debug-exit port). */
    public static final int RESULT_PORT = 0xf4;
    /** Result code of a guest whose every check passed. */
    public static final int SUCCESS = 0x10;
    /** Failure code the broken long-mode variant reports (pattern readback mismatch). */
    public static final int FAILURE_PATTERN_READBACK = 0x26;
    /** Offset in {@link #longMode()} of the 8-byte pattern that stage 9 stores and reads back. */
    public static final int PATTERN_OFFSET = 0x1b8;

    /** Stage names of the long-mode guest, index = stage number reported on {@link #STAGE_PORT}. */
    public static final List<String> STAGES = List.of(
            "entry (real mode)",
            "real mode: building identity page tables",
            "real mode: CPUID leaf 0x80000001 (long mode present)",
            "GDT, CR3, CR4.PAE, EFER.LME (rdmsr/wrmsr), CR0.PG, far jump to 64-bit",
            "64-bit mode: rdmsr EFER, LMA set",
            "64-bit mode: CPUID leaves 0 and 1 (CX16)",
            "64-bit mode: rdmsr IA32_APIC_BASE and IA32_PAT",
            "64-bit mode: lock cmpxchg16b",
            "64-bit mode: rep movsb / repe cmpsb",
            "64-bit mode: 64-bit store and readback");

    /** What a failure code on {@link #RESULT_PORT} means. */
    public static String describeCode(int code) {
        return switch (code) {
            case SUCCESS -> "success";
            case 0x21 -> "long mode not available (CPUID 0x80000001.EDX.LM clear) or real-mode memory check failed";
            case 0x22 -> "EFER.LMA not set after enabling paging";
            case 0x23 -> "CPUID.1.ECX.CX16 clear";
            case 0x24 -> "lock cmpxchg16b gave a wrong result";
            case 0x25 -> "rep movsb / repe cmpsb mismatch";
            case 0x26 -> "64-bit store read back a different value";
            default -> String.format("unknown code 0x%02x", code);
        };
    }

    /** Real mode: store and read back a word, report {@link #SUCCESS} on port 0xf4, halt. */
    public static byte[] realMode() {
        return HexFormat.of().parseHex(REAL_MODE_HEX);
    }

    /** Real mode to 64-bit long mode with paging, then the instructions a stock kernel needs early. */
    public static byte[] longMode() {
        return HexFormat.of().parseHex(LONG_MODE_HEX);
    }

    /**
     * The long-mode guest with its stored pattern changed, so stage 9's comparison fails and it reports
     * {@link #FAILURE_PATTERN_READBACK}: proves the checks can fail.
     */
    public static byte[] longModeBroken() {
        byte[] b = longMode();
        b[PATTERN_OFFSET] ^= (byte) 0xff;
        return b;
    }

    /** A 512-byte MBR boot sector holding {@code code} (at most 510 bytes) and the 0x55AA signature. */
    public static byte[] bootSector(byte[] code) {
        if (code.length > 510) {
            throw new IllegalArgumentException("guest is " + code.length + " bytes; a boot sector holds 510");
        }
        byte[] sector = new byte[512];
        System.arraycopy(code, 0, sector, 0, code.length);
        sector[510] = 0x55;
        sector[511] = (byte) 0xaa;
        return sector;
    }

    /** QEMU's exit status when the guest writes {@code code} to isa-debug-exit. */
    public static int qemuExitStatus(int code) {
        return (code << 1) | 1;
    }

    private static final String REAL_MODE_HEX = ""
            // rm_start:
            + "fa" // 0000: cli
            + "31c0" // 0001: xor %ax, %ax
            + "8ed8" // 0003: mov %ax, %ds
            + "c70600063412" // 0005: movw $0x1234, 0x600 # write a word to memory ...
            + "813e00063412" // 000b: cmpw $0x1234, 0x600 # ... and read it back
            + "7505" // 0011: jne rm_fail
            + "b010" // 0013: mov $0x10, %al
            + "e6f4" // 0015: out %al, $0xf4 # success
            + "f4" // 0017: hlt
            // rm_fail:
            + "b021" // 0018: mov $0x21, %al
            + "e6f4" // 001a: out %al, $0xf4
            + "f4" // 001c: hlt
            ;

    private static final String LONG_MODE_HEX = ""
            // lm_start:
            + "fa" // 0000: cli
            + "31c0" // 0001: xor %ax, %ax
            + "8ed8" // 0003: mov %ax, %ds
            + "8ec0" // 0005: mov %ax, %es
            + "8ed0" // 0007: mov %ax, %ss
            + "bc007c" // 0009: mov $0x7c00, %sp
            + "ea117c0000" // 000c: ljmp $0, $(0x7c00 + lm_cs0 - lm_start) # CS:IP = 0000:7cxx whatever the loader used
            // lm_cs0:
            + "b001" // 0011: mov $1, %al # stage 1: real mode, building page tables
            + "e680" // 0013: out %al, $0x80
            + "fc" // 0015: cld
            + "bf0010" // 0016: mov $0x1000, %di # PML4 0x1000, PDPT 0x2000, PD 0x3000: zero 3 pages
            + "6631c0" // 0019: xor %eax, %eax
            + "b9000c" // 001c: mov $0xc00, %cx
            + "66f3ab" // 001f: rep stosl
            + "66c706001003200000" // 0022: movl $0x2003, 0x1000 # PML4[0] -> PDPT | P | RW
            + "66c706002003300000" // 002b: movl $0x3003, 0x2000 # PDPT[0] -> PD | P | RW
            + "66c706003083000000" // 0034: movl $0x83, 0x3000 # PD[0] -> 2 MiB page at 0 | P | RW | PS (identity)
            + "b002" // 003d: mov $2, %al # stage 2: CPUID says long mode exists
            + "e680" // 003f: out %al, $0x80
            + "66b800000080" // 0041: mov $0x80000000, %eax
            + "0fa2" // 0047: cpuid
            + "663d01000080" // 0049: cmp $0x80000001, %eax
            + "7250" // 004f: jb lm_fail16
            + "66b801000080" // 0051: mov $0x80000001, %eax
            + "0fa2" // 0057: cpuid
            + "660fbae21d" // 0059: bt $29, %edx # LM
            + "7341" // 005e: jnc lm_fail16
            + "b003" // 0060: mov $3, %al # stage 3: GDT, CR3, PAE, EFER.LME, paging
            + "e680" // 0062: out %al, $0x80
            + "660f0116d87d" // 0064: lgdtl 0x7c00 + lm_gdtr - lm_start
            + "66b800100000" // 006a: mov $0x1000, %eax
            + "0f22d8" // 0070: mov %eax, %cr3
            + "0f20e0" // 0073: mov %cr4, %eax
            + "6683c820" // 0076: or $0x20, %eax # CR4.PAE
            + "0f22e0" // 007a: mov %eax, %cr4
            + "66b9800000c0" // 007d: mov $0xc0000080, %ecx # EFER
            + "0f32" // 0083: rdmsr
            + "660d00010000" // 0085: or $0x100, %eax # EFER.LME
            + "0f30" // 008b: wrmsr
            + "0f20c0" // 008d: mov %cr0, %eax
            + "660d01000080" // 0090: or $0x80000001, %eax # CR0.PG | CR0.PE
            + "0f22c0" // 0096: mov %eax, %cr0
            + "66eaa67c00000800" // 0099: ljmpl $0x08, $(0x7c00 + lm_64 - lm_start)
            // lm_fail16:
            + "b021" // 00a1: mov $0x21, %al
            + "e6f4" // 00a3: out %al, $0xf4
            + "f4" // 00a5: hlt
            // lm_64:
            + "66b81000" // 00a6: mov $0x10, %ax
            + "8ed8" // 00aa: mov %ax, %ds
            + "8ec0" // 00ac: mov %ax, %es
            + "8ed0" // 00ae: mov %ax, %ss
            + "48c7c4007c0000" // 00b0: mov $0x7c00, %rsp
            + "b004" // 00b7: mov $4, %al # stage 4: in 64-bit mode; EFER.LMA must be set
            + "e680" // 00b9: out %al, $0x80
            + "b9800000c0" // 00bb: mov $0xc0000080, %ecx
            + "0f32" // 00c0: rdmsr
            + "0fbae00a" // 00c2: bt $10, %eax # EFER.LMA
            + "b322" // 00c6: mov $0x22, %bl
            + "0f83e4000000" // 00c8: jnc lm_fail
            + "b005" // 00ce: mov $5, %al # stage 5: CPUID leaf 0 and 1 (CX16 needed below)
            + "e680" // 00d0: out %al, $0x80
            + "31c0" // 00d2: xor %eax, %eax
            + "0fa2" // 00d4: cpuid
            + "b801000000" // 00d6: mov $1, %eax
            + "0fa2" // 00db: cpuid
            + "0fbae10d" // 00dd: bt $13, %ecx # CX16
            + "b323" // 00e1: mov $0x23, %bl
            + "0f83c9000000" // 00e3: jnc lm_fail
            + "b006" // 00e9: mov $6, %al # stage 6: RDMSR of IA32_APIC_BASE and IA32_PAT
            + "e680" // 00eb: out %al, $0x80
            + "b91b000000" // 00ed: mov $0x1b, %ecx
            + "0f32" // 00f2: rdmsr
            + "b977020000" // 00f4: mov $0x277, %ecx
            + "0f32" // 00f9: rdmsr
            + "b007" // 00fb: mov $7, %al # stage 7: lock cmpxchg16b (as the kernel's percpu/slub)
            + "e680" // 00fd: out %al, $0x80
            + "48c7c700500000" // 00ff: mov $0x5000, %rdi # 16-byte aligned scratch
            + "48b82222222211111111" // 0106: movabs $0x1111111122222222, %rax
            + "488907" // 0110: mov %rax, (%rdi)
            + "48ba4444444433333333" // 0113: movabs $0x3333333344444444, %rdx
            + "48895708" // 011d: mov %rdx, 8(%rdi)
            + "48bb6666666655555555" // 0121: movabs $0x5555555566666666, %rbx
            + "48b98888888877777777" // 012b: movabs $0x7777777788888888, %rcx
            + "f0480fc70f" // 0135: lock cmpxchg16b (%rdi)
            + "b324" // 013a: mov $0x24, %bl
            + "7574" // 013c: jne lm_fail
            + "48b88888888877777777" // 013e: movabs $0x7777777788888888, %rax
            + "48394708" // 0148: cmp %rax, 8(%rdi)
            + "7564" // 014c: jne lm_fail
            + "b008" // 014e: mov $8, %al # stage 8: rep movsb / repe cmpsb (string ops)
            + "e680" // 0150: out %al, $0x80
            + "48c7c6007c0000" // 0152: mov $0x7c00, %rsi
            + "48c7c700600000" // 0159: mov $0x6000, %rdi
            + "b900010000" // 0160: mov $256, %ecx
            + "f3a4" // 0165: rep movsb
            + "48c7c6007c0000" // 0167: mov $0x7c00, %rsi
            + "48c7c700600000" // 016e: mov $0x6000, %rdi
            + "b900010000" // 0175: mov $256, %ecx
            + "f3a6" // 017a: repe cmpsb
            + "b325" // 017c: mov $0x25, %bl
            + "7532" // 017e: jne lm_fail
            + "b009" // 0180: mov $9, %al # stage 9: 64-bit store and readback of a known pattern
            + "e680" // 0182: out %al, $0x80
            + "488b0425b87d0000" // 0184: mov 0x7c00 + lm_pattern - lm_start, %rax
            + "4889042500800000" // 018c: mov %rax, 0x8000
            + "488b142500800000" // 0194: mov 0x8000, %rdx
            + "48b8efcdab8967452301" // 019c: movabs $0x0123456789abcdef, %rax
            + "4839c2" // 01a6: cmp %rax, %rdx
            + "b326" // 01a9: mov $0x26, %bl
            + "7505" // 01ab: jne lm_fail
            + "b010" // 01ad: mov $0x10, %al # all checks passed
            + "e6f4" // 01af: out %al, $0xf4
            + "f4" // 01b1: hlt
            // lm_fail:
            + "88d8" // 01b2: mov %bl, %al
            + "e6f4" // 01b4: out %al, $0xf4
            + "f4" // 01b6: hlt
            + "90" // 01b7: .balign 8
            // lm_pattern:
            + "efcdab8967452301" // 01b8: .quad 0x0123456789abcdef # the broken variant changes this byte pattern
            // lm_gdt:
            + "0000000000000000" // 01c0: .quad 0 # null
            + "ffff0000009aaf00" // 01c8: .quad 0x00af9a000000ffff # 0x08: 64-bit code, DPL 0
            + "ffff00000092cf00" // 01d0: .quad 0x00cf92000000ffff # 0x10: flat data
            // lm_gdtr:
            + "1700" // 01d8: .word 23
            + "c07d0000" // 01da: .long 0x7c00 + lm_gdt - lm_start
            ;
}
