/* fixture.h -- a small, fixed campus world for tests (ids are stable):
 *
 *   program   1 BSCS, 150000 cents per unit (PHP)
 *   semester  1 2026-1 (enrollment open now, 5 months), 2 2025-2 (closed, past)
 *   fees      semester 1: Library 250000, Laboratory 500000 (BSCS only)
 *   subjects  1 CS101 (3 units), 2 CS102 (3, needs CS101 at 3.00),
 *             3 CS201 (3, needs CS102 at 2.50), 4 MATH1 (5), 5 PE1 (2)
 *   sections  1 CS101-A (sem 1, faculty cs_fac1, capacity 40, Mon/Wed 08:00-09:30)
 *             2 CS102-A (sem 1, cs_fac2, 30, Tue/Thu 10:00-11:30)
 *             3 MATH1-A (sem 1, cs_fac1, 2, Mon/Wed 09:00-10:30: clashes with CS101-A)
 *             4 PE1-A   (sem 1, no faculty, 25, Fri 13:00-15:00)
 *             5 CS101-Z (sem 2, cs_fac1, 40, Mon 08:00-11:00)
 *   users     cs_admin, cs_registrar, cs_cashier, cs_super (cashier_supervisor),
 *             cs_fac1 / cs_fac2 (faculty role scoped to section 1 / 2; the
 *             sections' faculty_id also names cs_fac1 for 3 and 5), cs_stu1..cs_stu3
 *             (students 1..3, active), cs_nobody (no campus role) */
#ifndef CAMPUS_FIXTURE_H
#define CAMPUS_FIXTURE_H
#include "support/harness.h"

#define CP "/api/v1/campus"

void cs_fixture(void);               /* after srv_start() */
void cs_start(void);                 /* srv_start() + cs_fixture(): a TestSuite .init */
#endif
